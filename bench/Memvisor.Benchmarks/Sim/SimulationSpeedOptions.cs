/*
 * Options of `sim`, the simulation-speed benchmark (simulated seconds per wall second).
 */
using System.Globalization;

namespace Memvisor.Benchmarks.Sim;

/// <summary>What the simulation-speed benchmark runs.</summary>
internal sealed record SimulationSpeedOptions
{
    public const string Usage = """
        usage: Memvisor.Benchmarks sim [options]
          --runs N       measured runs of the default scenario, after one warm-up (default 3)
          --warmups N    warm-up runs, not measured (default 1; 0 measures a cold first run)
          --cpu N        the CPU the process is pinned to (default 0)
          --no-pin       do not pin the process to one CPU
          --json         print the results as JSON instead of a table
        """;

    public int Runs { get; init; } = 3;

    public int Warmups { get; init; } = 1;

    public int Cpu { get; init; }

    public bool Pin { get; init; } = true;

    public bool Json { get; init; }

    /// <summary>Parses <paramref name="args"/>; null with <paramref name="error"/> set when they are wrong.</summary>
    public static SimulationSpeedOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        var options = new SimulationSpeedOptions();
        error = null;
        for (var i = 0; i < args.Count; i++)
        {
            string Next() => i + 1 < args.Count ? args[++i] : throw new FormatException($"{args[i]} needs a value.");
            int Whole(int min) => int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min
                ? n
                : throw new FormatException($"{args[i - 1]} needs a whole number >= {min}, not '{args[i]}'.");
            try
            {
                options = args[i] switch
                {
                    "--runs" => options with { Runs = Whole(1) },
                    "--warmups" => options with { Warmups = Whole(0) },
                    "--cpu" => options with { Cpu = Whole(0) },
                    "--no-pin" => options with { Pin = false },
                    "--json" => options with { Json = true },
                    _ => throw new FormatException($"Unknown option '{args[i]}'."),
                };
            }
            catch (FormatException e)
            {
                error = e.Message;
                return null;
            }
        }

        if (options.Pin && options.Cpu >= Environment.ProcessorCount)
        {
            error = $"--cpu {options.Cpu}: this machine has CPUs 0 to {Environment.ProcessorCount - 1}.";
            return null;
        }

        return options;
    }
}
