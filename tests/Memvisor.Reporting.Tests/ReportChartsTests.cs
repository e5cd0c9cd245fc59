using System.Text.RegularExpressions;
using Memvisor.Core.Statistics;
using Memvisor.Reporting.Charts;
using Memvisor.Scenarios;
using Memvisor.Testing;

namespace Memvisor.Reporting.Tests;

/// <summary>The charts a run report draws, leaves out and says it left out.</summary>
public partial class ReportChartsTests
{
    private static string Report(OutputFolder folder) => File.ReadAllText(folder.Full(RunOutputs.ReportFile));

    [Fact]
    public void Charts_take_the_full_width_of_the_page_one_per_row()
    {
        using var folder = new OutputFolder();
        var scenario = SyntheticRun.Scenario();
        var samples = SyntheticRun.Samples();
        RunOutputs.Write(folder.Path, scenario, samples, RunSummary.FromSamples(scenario, samples));

        var style = StyleRule().Matches(Report(folder)).ToDictionary(m => m.Groups["selector"].Value.Trim(), m => m.Groups["body"].Value);
        Assert.Contains("width: 100%", style["figure img"], StringComparison.Ordinal);
        Assert.Contains("flex-direction: column", style[".charts"], StringComparison.Ordinal);
        Assert.DoesNotContain("wrap", style[".charts"], StringComparison.Ordinal);
    }

    [Fact]
    public void A_chart_whose_values_are_all_zero_is_not_drawn_and_the_report_names_it()
    {
        using var folder = new OutputFolder();
        var scenario = SyntheticRun.Scenario();
        // web is never ballooned nor swapped.
        var samples = SyntheticRun.Samples().Select(h => h with
        {
            Vms = [.. h.Vms.Select(v => v.Name == "web" ? v with { BalloonMB = 0, BalloonTargetMB = 0, SwappedMB = 0, SwapTargetMB = 0 } : v)],
        }).ToList();

        var written = RunOutputs.Write(folder.Path, scenario, samples, RunSummary.FromSamples(scenario, samples));

        Assert.DoesNotContain("charts/vm-02-web-balloon-swap.svg", written);
        Assert.Contains("charts/vm-01-db-balloon-swap.svg", written);
        Assert.Contains("Not drawn, having nothing to show: web: balloon and swap (every value is 0).", Report(folder), StringComparison.Ordinal);
    }

    private static Scenario ManyVms(int count) => SyntheticRun.Scenario() with
    {
        Vms = [.. Enumerable.Range(0, count).Select(i => new VmSpec { Name = $"vm{i:00}", MemoryMB = 64 })],
    };

    /// <summary>Every VM granted 10 + (i % 7) MiB; vm37 the only one ballooned (5 MiB).</summary>
    private static List<HostSample> ManyVmSamples(int count) =>
        [.. Enumerable.Range(1, 20).Select(t => new HostSample
        {
            TimeSeconds = t,
            MemoryMB = 4096,
            FreeMB = 100,
            State = "high",
            Vms = [.. Enumerable.Range(0, count).Select(i => new VmSample
            {
                Name = $"vm{i:00}",
                ConfiguredMB = 64,
                GrantedMB = 10 + (i % 7),
                TargetMB = 64,
                ActiveEstimateMB = 8,
                TrueWorkingSetMB = double.NaN,
                BalloonMB = i == 37 ? 5 : 0,
                SharedMB = 1,
                Throughput = i,
            })],
        })];

    [Fact]
    public void With_50_vms_per_vm_charts_are_drawn_for_at_most_8_the_most_reclaimed_first_and_the_report_says_so()
    {
        using var folder = new OutputFolder();
        var scenario = ManyVms(50);
        var samples = ManyVmSamples(50);

        var written = RunOutputs.Write(folder.Path, scenario, samples, RunSummary.FromSamples(scenario, samples));

        var perVm = written.Where(f => f.StartsWith("charts/vm-", StringComparison.Ordinal)).ToList();
        var charted = perVm.Select(f => f.Split('-')[2]).Distinct().ToList();
        Assert.InRange(charted.Count, 1, RunCharts.DefaultPerVmCharts);
        Assert.Equal(RunCharts.DefaultPerVmCharts, charted.Count);
        // vm37 is the only one with memory reclaimed; the others are those granted most (i % 7 == 6).
        Assert.Contains("vm37", charted);
        Assert.All(charted.Where(n => n != "vm37"), n => Assert.Equal(6, int.Parse(n[2..], System.Globalization.CultureInfo.InvariantCulture) % 7));
        var report = Report(folder);
        Assert.Contains("Per-VM charts for 8 of 50 VMs", report, StringComparison.Ordinal);
        Assert.Contains("timeseries-vms.csv", report, StringComparison.Ordinal);
        // The aggregate figure covers every VM: granted summed over all 50.
        Assert.Contains("charts/figure-aggregate.svg", written);
    }

    [Fact]
    public void A_run_with_few_vms_charts_every_vm_and_says_nothing_about_a_selection()
    {
        var scenario = ManyVms(5);
        var samples = ManyVmSamples(5);

        var set = RunCharts.Build(scenario, samples, RunSummary.FromSamples(scenario, samples));

        Assert.Equal(["vm00", "vm01", "vm02", "vm03", "vm04"], set.Vms.Charted);
        Assert.False(set.Vms.IsPartial);
        Assert.Equal("", set.Vms.Note);
    }

    [Fact]
    public void The_by_vm_figures_and_the_throughput_chart_show_only_the_charted_vms()
    {
        var scenario = ManyVms(50);
        var samples = ManyVmSamples(50);

        var set = RunCharts.Build(scenario, samples, RunSummary.FromSamples(scenario, samples), perVmCharts: 4);

        var bars = (BarChart)set.Charts.Single(c => c.FileStem == "figure-memory-by-vm").Chart;
        Assert.Equal(set.Vms.Charted, bars.Categories);
        Assert.Equal(4, ((LineChart)set.Charts.Single(c => c.FileStem == "throughput").Chart).Series.Count);
        var aggregate = (LineChart)set.Charts.Single(c => c.FileStem == "figure-aggregate").Chart;
        Assert.Equal(samples[0].Vms.Sum(v => v.GrantedMB), aggregate.Series[0].Y[0]);
    }

    [GeneratedRegex(@"(?<selector>[^{}\n]+)\{(?<body>[^}]*)\}")]
    private static partial Regex StyleRule();
}
