using Memvisor.Scenarios;
using Memvisor.Core.Statistics;
using Memvisor.Reporting;
using Memvisor.Testing;

namespace Memvisor.Reporting.Tests;

public class RunSummaryTests
{
    private static readonly Scenario TwoVms = new()
    {
        Name = "two",
        Seed = 9,
        Vms = [new VmSpec { Name = "a", MemoryMB = 100 }, new VmSpec { Name = "b", MemoryMB = 50 }],
    };

    /// <summary>Four samples at 1, 2, 3, 5 s in states high, soft, soft, high; VM a is off at 3 s.</summary>
    private static IReadOnlyList<HostSample> FourSamples() =>
    [
        Host(1, "high", 40, swap: 0, Vm("a", throughput: 100, swapped: 0, balloon: 0, saved: 1), Vm("b", throughput: 10, swapped: 0, balloon: 0, saved: 0)),
        Host(2, "soft", 10, swap: 6, Vm("a", throughput: 200, swapped: 4, balloon: 8, saved: 2), Vm("b", throughput: 20, swapped: 2, balloon: 1, saved: 0)),
        Host(3, "soft", 12, swap: 2, Vm("a", throughput: 999, swapped: 50, balloon: 50, saved: 9) with { PoweredOn = false, DataMismatches = 2 }, Vm("b", throughput: 30, swapped: 2, balloon: 3, saved: 0)),
        Host(5, "high", 30, swap: 1, Vm("a", throughput: 300, swapped: 1, balloon: 2, saved: 3), Vm("b", throughput: 40, swapped: 1, balloon: 0, saved: 0.5)),
    ];

    [Fact]
    public void Host_figures_follow_the_samples()
    {
        var host = RunSummary.FromSamples(TwoVms, FourSamples()).Host;

        // Each sample's state counts for the interval ending at it: high 0..1 and 3..5 = 1 + 2 = 3 s; soft 1..3 = 2 s.
        Assert.Equal([new StateTime("high", 3), new StateTime("soft", 2), new StateTime("hard", 0), new StateTime("low", 0)], host.TimeInState);
        Assert.Equal([new StateTransition(2, "high", "soft"), new StateTransition(5, "soft", "high")], host.StateTransitions);
        Assert.Equal(10, host.MinFreeMB);
        Assert.Equal((40 + 10 + 12 + 30) / 4.0, host.MeanFreeMB);
        Assert.Equal(6, host.PeakSwapUsedMB);
        Assert.Equal("high", host.FinalState);
    }

    [Fact]
    public void The_policys_state_log_replaces_what_samples_saw_including_excursions_between_samples()
    {
        // Samples saw high, soft, soft, high; the policy also went to hard for 0.3 s between two samples.
        StateTransition[] log = [new(1.4, "high", "soft"), new(2.2, "soft", "hard"), new(2.5, "hard", "soft"), new(4.1, "soft", "high")];

        var host = RunSummary.FromSamples(TwoVms, FourSamples()).WithStateLog(log, endSeconds: 5).Host;

        // high 0..1.4 and 4.1..5 = 1.4 + 0.9 = 2.3 s; soft 1.4..2.2 and 2.5..4.1 = 0.8 + 1.6 = 2.4 s; hard 2.2..2.5 = 0.3 s.
        Assert.Equal(["high", "soft", "hard", "low"], host.TimeInState.Select(s => s.State));
        // As summary.json prints them: sums of differences of binary fractions, without their noise in the last bits.
        Assert.Equal([2.3, 2.4, 0.3, 0], host.TimeInState.Select(s => s.Seconds));
        Assert.Equal(log, host.StateTransitions);
        Assert.Equal("high", host.FinalState);
    }

    [Fact]
    public void A_state_log_that_does_not_chain_is_refused_with_the_transition_named()
    {
        StateTransition[] log = [new(1, "high", "soft"), new(2, "hard", "low")];

        var e = Assert.Throws<ArgumentException>(() => RunSummary.FromSamples(TwoVms, FourSamples()).WithStateLog(log, endSeconds: 5));
        Assert.Contains("at 2 s from 'hard'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Vm_figures_count_only_samples_where_the_vm_is_on()
    {
        var summary = RunSummary.FromSamples(TwoVms, FourSamples(), events: 77);
        var a = summary.Vms[0];

        Assert.Equal(["a", "b"], summary.Vms.Select(v => v.Name));
        Assert.Equal(5, summary.SimulatedSeconds);
        Assert.Equal(77, summary.Events);
        // Powered on at 1, 2 and 5 s: mean throughput (100 + 200 + 300) / 3; the 999 while off does not count.
        Assert.Equal(200, a.MeanThroughput);
        // Peaks over the on samples: swap max(0, 4, 1) = 4, balloon max(0, 8, 2) = 8.
        Assert.Equal(4, a.PeakSwappedMB);
        Assert.Equal(8, a.PeakBalloonMB);
        // On for the intervals ending at 1, 2 and 5 s: 1 + 1 + 2 = 4 s.
        Assert.Equal(4, a.SecondsPoweredOn);
        Assert.Equal(3, a.FinalSharedSavedMB);
        // Mismatches are a running count: the largest seen, even while off.
        Assert.Equal(2, a.DataMismatches);
        Assert.Equal((10 + 20 + 30 + 40) / 4.0, summary.Vms[1].MeanThroughput);
    }

    [Fact]
    public void A_vm_never_on_has_unknown_means()
    {
        var scenario = TwoVms with { Vms = [.. TwoVms.Vms, new VmSpec { Name = "never", MemoryMB = 10 }] };

        var never = RunSummary.FromSamples(scenario, FourSamples()).Vms[2];

        Assert.Equal("never", never.Name);
        Assert.True(double.IsNaN(never.MeanThroughput));
        Assert.Equal(10, never.ConfiguredMB);
        Assert.Equal(0, never.SecondsPoweredOn);
    }

    [Fact]
    public void Double_paging_and_remaps_are_totalled_over_the_samples_where_the_vm_is_on_and_shown()
    {
        var samples = FourSamples()
            .Select((s, i) => s with { Vms = [.. s.Vms.Select(v => v.Name == "a" ? v with { DoublePagingPages = 10 * (i + 1), IoRemaps = i } : v)] })
            .ToList();

        var summary = RunSummary.FromSamples(TwoVms, samples);

        // A is on at samples 1, 2 and 4 (index 0, 1, 3): double paging 10 + 20 + 40 = 70, remaps 0 + 1 + 3 = 4.
        Assert.Equal(70, summary.Vms[0].DoublePagingPages);
        Assert.Equal(4, summary.Vms[0].IoRemaps);
        Assert.Equal(0, summary.Vms[1].DoublePagingPages);
        Assert.Contains("double paging (pages)", SummaryText.Write(TwoVms, summary), StringComparison.Ordinal);
    }

    [Fact]
    public void Core_counters_attach_by_vm_name()
    {
        using var host = new TestHost(machinePages: 64, swapPages: 64);
        var guest = host.PowerOn("b", maxPages: 16);
        guest.Write(new Core.Memory.Ppn(3), 0, [1, 2, 3]);
        var vmStats = host.Manager.GetVmStats(guest.Id);

        var summary = RunSummary.FromSamples(TwoVms, FourSamples()).WithCounters(host.Manager.GetHostStats(), [vmStats]);

        Assert.Null(summary.Vms[0].Counters);
        Assert.Equal(vmStats.Counters, summary.Vms[1].Counters);
        Assert.True(summary.Vms[1].Counters!.Value.Faults >= 1);
        Assert.NotNull(summary.Host.Counters);
        Assert.Contains("VM counters (Core)", SummaryText.Write(TwoVms, summary), StringComparison.Ordinal);
    }

    [Fact]
    public void The_counter_tables_list_every_counter_of_the_structs_in_json_order_with_its_label()
    {
        var host = new HostCounters { FullCompares = 7, SwapReadErrors = 2, SharingMetadataBytesPerMachinePage = 20 };
        var vm = new VmCounters { Faults = 11, SharedBeforeSwap = 3 };
        var summary = RunSummary.FromSamples(TwoVms, FourSamples()) with
        {
            Host = RunSummary.FromSamples(TwoVms, FourSamples()).Host with { Counters = host },
        };
        summary = summary with { Vms = [summary.Vms[0] with { Counters = vm }, summary.Vms[1]] };

        var tables = ReportTables.Summary(summary);
        var hostTable = tables.Single(t => t.Id == "host-counters");
        var vmTable = tables.Single(t => t.Id == "vm-counters");
        var json = System.Text.Json.JsonSerializer.Serialize(summary, OutputJsonContext.Default.RunSummary);
        using var document = System.Text.Json.JsonDocument.Parse(json);
        var hostNames = document.RootElement.GetProperty("host").GetProperty("counters").EnumerateObject().Select(p => p.Name).ToList();
        var vmNames = document.RootElement.GetProperty("vms")[0].GetProperty("counters").EnumerateObject().Select(p => p.Name).ToList();

        Assert.Equal(hostNames.Count, hostTable.Rows.Count);
        Assert.Equal(vmNames.Count + 1, vmTable.Headers.Count);
        Assert.Single(vmTable.Rows);
        Assert.Equal(["full page comparisons", "7"], hostTable.Rows[hostNames.IndexOf("fullCompares")]);
        Assert.Equal(["swap read errors", "2"], hostTable.Rows[hostNames.IndexOf("swapReadErrors")]);
        Assert.Equal("20.000", hostTable.Rows[hostNames.IndexOf("sharingMetadataBytesPerMachinePage")][1]);
        Assert.Equal("faults", vmTable.Headers[1 + vmNames.IndexOf("faults")]);
        Assert.Equal("11", vmTable.Rows[0][1 + vmNames.IndexOf("faults")]);
        Assert.Equal("3", vmTable.Rows[0][1 + vmNames.IndexOf("sharedBeforeSwap")]);
        // Every counter is labelled in words, not by its JSON name.
        Assert.DoesNotContain(hostTable.Rows, r => hostNames.Contains(r[0]));
    }

    [Fact]
    public void Data_mismatches_are_flagged_in_the_text_summary()
    {
        var clean = RunSummary.FromSamples(TwoVms, [.. FourSamples().Take(2)]);
        var broken = RunSummary.FromSamples(TwoVms, FourSamples());

        Assert.DoesNotContain("DATA MISMATCHES", SummaryText.Write(TwoVms, clean), StringComparison.Ordinal);
        Assert.Contains("DATA MISMATCHES", SummaryText.Write(TwoVms, broken), StringComparison.Ordinal);
    }

    [Fact]
    public void Host_configuration_of_a_real_guest_run_leaves_out_what_only_the_simulator_uses()
    {
        static Dictionary<string, string> Rows(RunSummary summary) =>
            ReportTables.Scenario(TwoVms, summary).Single(t => t.Id == "host-config").Rows.ToDictionary(r => r[0], r => r[1]);
        var simulated = Rows(RunSummary.FromSamples(TwoVms, FourSamples()));
        var real = Rows(RunSummary.FromSamples(TwoVms, [.. FourSamples().Select(h => h with { Vms = [.. h.Vms.Select(v => v with { Real = new RealGuestSample { KsmMergingMB = 1 } })] })]));

        Assert.Contains("DMA boundary (MiB)", simulated.Keys);
        Assert.Contains("sharing salts", simulated.Keys);
        Assert.Contains("100 pages per 30.0 s", simulated["working-set sampling"], StringComparison.Ordinal);
        foreach (var simulatorOnly in new[] { "DMA boundary (MiB)", "sharing salts", "I/O page remapping", "share scan rate per VM / host (pages/s)" })
        {
            Assert.DoesNotContain(simulatorOnly, real.Keys);
        }

        Assert.Equal(simulated["idle memory tax"], real["idle memory tax"]);
        Assert.Contains("every page's accessed bit", real["working-set sampling"], StringComparison.Ordinal);
        Assert.Contains("I/O page remapping", real["simulator only, not used here"], StringComparison.Ordinal);
    }

    private static HostSample Host(double t, string state, double free, double swap, params VmSample[] vms) =>
        new() { TimeSeconds = t, MemoryMB = 100, FreeMB = free, State = state, SwapUsedMB = swap, Vms = vms };

    private static VmSample Vm(string name, double throughput, double swapped, double balloon, double saved) =>
        new() { Name = name, ConfiguredMB = 100, Throughput = throughput, SwappedMB = swapped, BalloonMB = balloon, SharedSavedMB = saved };
}
