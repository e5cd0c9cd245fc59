/*
 * Memvisor's benchmarks. Without arguments or with BenchmarkDotNet's options (e.g. --filter '*'),
 * runs the BenchmarkDotNet suites; `ksm [options]` runs the one-shot side-by-side of Memvisor's
 * sharing and Linux KSM on the same buffer; `sim [options]` measures how fast the simulator runs the
 * default scenario, in simulated seconds per wall second on one core; `qemu [options]` measures what
 * managing real guests under QEMU costs beside an unmanaged guest (see docs/benchmarks.md).
 */
using System.Runtime.Versioning;
using BenchmarkDotNet.Running;
using Memvisor.Benchmarks.Ksm;
using Memvisor.Benchmarks.Qemu;
using Memvisor.Benchmarks.Sim;

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

        if (args.Length > 0 && args[0] == "sim")
        {
            return SimulationSpeedCommand.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "qemu")
        {
            return QemuBenchmarkCommand.Run(args[1..]);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
