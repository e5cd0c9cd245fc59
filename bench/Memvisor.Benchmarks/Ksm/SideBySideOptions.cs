/*
 * Options of `ksm`, the one-shot side-by-side of Memvisor's sharing and Linux KSM on the same buffer.
 */
using System.Globalization;
using Memvisor.Linux.Ksm;

namespace Memvisor.Benchmarks.Ksm;

/// <summary>What the side-by-side runs.</summary>
internal sealed record SideBySideOptions
{
    public const string Usage = """
        usage: Memvisor.Benchmarks ksm [options]
          --megabytes N        buffer size in MiB (default 1024)
          --passes N           measured Memvisor sharing passes, after one warm-up (default 3)
          --pages-to-scan N    KSM pages_to_scan during the run (default 10000)
          --timeout-seconds N  longest wait for KSM to reach steady sharing (default 120)
          --ksm-dir PATH       KSM's sysfs directory (default /sys/kernel/mm/ksm)
          --skip-ksm           measure Memvisor only
          --json               print the results as JSON instead of a table
          --verbose            log every KSM knob written
        """;

    public int Megabytes { get; init; } = 1024;

    public int Passes { get; init; } = 3;

    public int PagesToScan { get; init; } = 10_000;

    public int TimeoutSeconds { get; init; } = 120;

    public string KsmDirectory { get; init; } = KsmSysfs.DefaultDirectory;

    public bool SkipKsm { get; init; }

    public bool Json { get; init; }

    public bool Verbose { get; init; }

    /// <summary>Parses <paramref name="args"/>; null with <paramref name="error"/> set when they are wrong.</summary>
    public static SideBySideOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        var options = new SideBySideOptions();
        error = null;
        for (var i = 0; i < args.Count; i++)
        {
            string Next() => i + 1 < args.Count ? args[++i] : throw new FormatException($"{args[i]} needs a value.");
            int Positive() => int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
                ? n
                : throw new FormatException($"{args[i - 1]} needs a positive whole number, not '{args[i]}'.");
            try
            {
                options = args[i] switch
                {
                    "--megabytes" => options with { Megabytes = Positive() },
                    "--passes" => options with { Passes = Positive() },
                    "--pages-to-scan" => options with { PagesToScan = Positive() },
                    "--timeout-seconds" => options with { TimeoutSeconds = Positive() },
                    "--ksm-dir" => options with { KsmDirectory = Next() },
                    "--skip-ksm" => options with { SkipKsm = true },
                    "--json" => options with { Json = true },
                    "--verbose" => options with { Verbose = true },
                    _ => throw new FormatException($"Unknown option '{args[i]}'."),
                };
            }
            catch (FormatException e)
            {
                error = e.Message;
                return null;
            }
        }

        return options;
    }
}
