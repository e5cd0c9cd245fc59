/*
 * Memvisor's benchmarks. Without arguments or with BenchmarkDotNet's options (e.g. --filter '*'),
 * runs the BenchmarkDotNet suites; `ksm [options]` runs the one-shot side-by-side of Memvisor's
 * sharing and Linux KSM on the same buffer (see docs/benchmarks.md).
 */
using System.Runtime.Versioning;
using BenchmarkDotNet.Running;
using Memvisor.Benchmarks.Ksm;

// The benchmarks drive Linux interfaces (mmap, madvise, KSM's sysfs, procfs).
[assembly: SupportedOSPlatform("linux")]

namespace Memvisor.Benchmarks;

internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "ksm")
        {
            return KsmSideBySideCommand.Run(args[1..]);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
