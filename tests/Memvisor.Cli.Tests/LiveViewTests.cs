using Memvisor.Cli.Commands;
using Memvisor.Cli.Live;
using Memvisor.Scenarios;
using Memvisor.Simulation;
using Spectre.Console.Testing;

namespace Memvisor.Cli.Tests;

/// <summary>The live table: frames are drawn (the first at once), they change with the run, and they show esxtop's columns.</summary>
public sealed class LiveViewTests
{
    private const string Idle = """
        { "name": "live", "durationSeconds": 5, "sampleIntervalSeconds": 1,
          "host": { "memoryMB": 64, "swapMB": 64 },
          "vms": [ { "name": "vm1", "memoryMB": 32, "guest": "linux", "workload": { "kind": "toucher", "workingSetMB": 8 } } ] }
        """;

    [Fact]
    public void The_first_frame_is_drawn_at_once_then_at_most_one_per_interval_and_always_the_last()
    {
        long now = 1_000;
        var throttle = new FrameThrottle(intervalTicks: 100, () => now);
        Assert.True(throttle.ShouldDraw(final: false));
        now += 50;
        Assert.False(throttle.ShouldDraw(final: false));
        Assert.True(throttle.ShouldDraw(final: true));
        now += 99;
        Assert.False(throttle.ShouldDraw(final: false));
        now += 1;
        Assert.True(throttle.ShouldDraw(final: false));
    }

    [Fact]
    public void The_first_frame_is_drawn_whatever_the_clock_reads()
    {
        // A throttle that remembered "no frame yet" as a very old time overflowed on the first subtraction and skipped every frame.
        foreach (var start in (long[])[long.MinValue, long.MinValue + 1, -1, 0, long.MaxValue])
        {
            Assert.True(new FrameThrottle(100, () => start).ShouldDraw(final: false));
        }
    }

    [Fact]
    public void A_frame_shows_esxtops_columns_and_the_vms_figures()
    {
        var sample = new HostSample
        {
            TimeSeconds = 10, MemoryMB = 1024, FreeMB = 100, State = "soft",
            Vms = [new VmSample { Name = "db", ConfiguredMB = 384, TargetMB = 250, GrantedMB = 300, BalloonMB = 40, BalloonTargetMB = 77, SwappedMB = 5, SwapTargetMB = 9, OverheadMB = 27 }],
        };
        var console = new TestConsole().Width(140);
        console.Write(LiveView.Render("s", 1, 100, sample));
        var text = console.Output;
        foreach (var column in (string[])["MEMSZ", "SZTGT", "GRANT", "ACTV", "MCTLSZ", "MCTLTGT", "SWCUR", "SWTGT", "OVHD"])
        {
            Assert.Contains(column, text, StringComparison.Ordinal);
        }

        var row = text.Split('\n').Single(l => l.TrimStart().StartsWith("db", StringComparison.Ordinal));
        Assert.Equal(["db", "384", "250", "300", "0", "-", "40", "77", "5", "9", "0", "0", "27", "on"], row.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("state soft", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_live_run_draws_its_first_and_last_frames_with_the_vms()
    {
        var scenario = ScenarioReader.Parse(Idle);
        var console = new TestConsole().Width(140);
        console.Profile.Capabilities.Interactive = true;
        using var host = new SimulatedHost(scenario);
        var result = SimulateCommand.RunLive(console, host, scenario, TestContext.Current.CancellationToken);
        Assert.Equal(5, result.Samples.Count);
        var output = console.Output;
        // Every frame redraws the progress line; the first (at 1 s) and the last (at 5 s) at least.
        Assert.Contains("1/5 s", output, StringComparison.Ordinal);
        Assert.Contains("5/5 s", output, StringComparison.Ordinal);
        Assert.Contains("vm1", output, StringComparison.Ordinal);
        Assert.EndsWith("5/5 s", console.Lines.First(l => l.Contains("seed", StringComparison.Ordinal) && l.Contains("5/5 s", StringComparison.Ordinal)).TrimEnd(), StringComparison.Ordinal);
    }
}
