/*
 * `sim`: how fast the simulator runs the built-in default scenario, in simulated seconds per wall
 * second, on one core. The process (every thread it has, and so every thread it starts later) is
 * pinned to one CPU; the scenario runs once or more to warm up (JIT tiers, the runtime's own memory),
 * then N measured times, each on a fresh SimulatedHost, with a full GC in between. Per run: wall time,
 * process CPU time, events, minor page faults; then min / median / max of the speed ratio.
 * Progress goes to stderr, the report to stdout.
 */
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Memvisor.Native;
using Memvisor.Simulation;
using Memvisor.Simulation.Scenarios;

namespace Memvisor.Benchmarks.Sim;

/// <summary>One measured run of the default scenario.</summary>
/// <param name="SimulatedSeconds">The scenario's duration.</param>
/// <param name="WallSeconds">Wall time of SimulatedHost construction and Run.</param>
/// <param name="CpuSeconds">Process CPU time (all threads) over the same span.</param>
/// <param name="Events">Events the engine processed.</param>
/// <param name="MinorFaults">Minor page faults of the process over the same span (first touches of its memory).</param>
internal sealed record SimulationRun(double SimulatedSeconds, double WallSeconds, double CpuSeconds, long Events, long MinorFaults)
{
    public double Ratio => SimulatedSeconds / WallSeconds;

    public double EventsPerSecond => Events / WallSeconds;
}

/// <summary>The figures of a `sim` run.</summary>
internal sealed record SimulationSpeedReport(string Machine, string LoadAtStart, string LoadAtEnd, int? PinnedCpu, int Warmups, IReadOnlyList<SimulationRun> Runs)
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public double MinRatio => Runs.Min(r => r.Ratio);

    public double MedianRatio => Median(Runs.Select(r => r.Ratio));

    public double MaxRatio => Runs.Max(r => r.Ratio);

    public double MedianWallSeconds => Median(Runs.Select(r => r.WallSeconds));

    public double MedianEventsPerSecond => Median(Runs.Select(r => r.EventsPerSecond));

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public string ToText()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"machine: {Machine}; load {LoadAtStart} -> {LoadAtEnd}; {(PinnedCpu is { } cpu ? $"pinned to CPU {cpu}" : "not pinned")}; {Warmups} warm-up run(s)");
        text.AppendLine("run  simulated s  wall s  cpu s  x real time  events  events/s  minor faults");
        for (var i = 0; i < Runs.Count; i++)
        {
            var r = Runs[i];
            text.AppendLine(c, $"{i + 1,3}  {r.SimulatedSeconds,11:F0}  {r.WallSeconds,6:F2}  {r.CpuSeconds,5:F2}  {r.Ratio,11:F1}  {r.Events,6}  {r.EventsPerSecond,8:F0}  {r.MinorFaults,12}");
        }

        text.AppendLine(c, $"x real time: min {MinRatio:F1}, median {MedianRatio:F1}, max {MaxRatio:F1}; median wall {MedianWallSeconds:F2} s; median events/s {MedianEventsPerSecond:F0}");
        return text.ToString();
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

/// <summary>The simulation-speed command.</summary>
internal static class SimulationSpeedCommand
{
    public static int Run(string[] args)
    {
        var options = SimulationSpeedOptions.Parse(args, out var error);
        if (options is null)
        {
            Console.Error.WriteLine(error);
            Console.Error.WriteLine(SimulationSpeedOptions.Usage);
            return 2;
        }

        var log = Console.Error;
        if (options.Pin)
        {
            PinToCpu(options.Cpu);
            log.WriteLine($"pinned to CPU {options.Cpu}");
        }

        var loadAtStart = MachineLoad.LoadAverage();
        for (var i = 0; i < options.Warmups; i++)
        {
            log.WriteLine($"warm-up {i + 1}/{options.Warmups} ...");
            RunOnce();
        }

        var runs = new List<SimulationRun>();
        for (var i = 0; i < options.Runs; i++)
        {
            log.WriteLine($"run {i + 1}/{options.Runs} ...");
            var run = RunOnce();
            log.WriteLine($"  {run.WallSeconds:F2} s wall, {run.Ratio:F1}x real time");
            runs.Add(run);
        }

        var report = new SimulationSpeedReport(
            Memvisor.Linux.Procfs.HostDescription.Line(),
            loadAtStart,
            MachineLoad.LoadAverage(),
            options.Pin ? options.Cpu : null,
            options.Warmups,
            runs);
        Console.Out.Write(options.Json ? report.ToJson() + "\n" : report.ToText());
        return 0;
    }

    private static SimulationRun RunOnce()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var scenario = BuiltInScenarios.Default;
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var faultsBefore = MinorFaults();
        var clock = Stopwatch.StartNew();
        long events;
        using (var host = new SimulatedHost(scenario))
        {
            events = host.Run().Record.Events;
        }

        var wall = clock.Elapsed.TotalSeconds;
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        return new SimulationRun(scenario.DurationSeconds, wall, cpu, events, MinorFaults() - faultsBefore);
    }

    /// <summary>Pins the process's main thread (Process.ProcessorAffinity) and every other thread it has now to <paramref name="cpu"/>.</summary>
    private static void PinToCpu(int cpu)
    {
        var mask = 1UL << cpu;
        using (var process = Process.GetCurrentProcess())
        {
            process.ProcessorAffinity = (nint)mask;
        }

        // Process.ProcessorAffinity sets the main thread's mask only; the runtime's threads (GC, JIT
        // tiering, finalizer) already run and would stay free to use the other cores.
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            var tid = int.Parse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture);
            try
            {
                CpuAffinity.PinThread(tid, cpu);
            }
            catch (ErrnoException) when (!Directory.Exists(task))
            {
                // The thread ended since the directory was listed: nothing left to pin.
            }
        }
    }

    /// <summary>The process's minor page faults so far (field 10 of /proc/self/stat).</summary>
    private static long MinorFaults()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7], CultureInfo.InvariantCulture);
    }
}
