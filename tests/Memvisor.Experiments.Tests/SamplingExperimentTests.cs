using System.Globalization;

namespace Memvisor.Experiments.Tests;

/// <summary>Figure 6 at reduced size: the estimate rises fast, falls slowly, tracks the truth, and Windows shows a boot spike.</summary>
public sealed class SamplingExperimentTests
{
    private static readonly Lazy<ExperimentResult> Result = new(() => new SamplingExperiment().Run(new ExperimentContext(ExperimentScale.Reduced)));

    [Fact]
    public void The_estimate_rises_within_a_few_periods_and_falls_over_many()
    {
        var steps = Result.Value.Tables.Single(t => t.FileName == "steps").Rows;
        var ups = steps.Where(r => r[1] == "up").Select(r => Number(r[5])).ToList();
        var downs = steps.Where(r => r[1] == "down").Select(r => Number(r[5])).ToList();
        Assert.Equal(2, ups.Count);
        Assert.Single(downs);

        // The fast average (gain 0.5) halves the gap each period: 90% in about 3 periods; the slow one
        // (gain 0.1) keeps 0.9^k: 90% down after about 22 periods.
        Assert.All(ups, p => Assert.InRange(p, 0, 5));
        Assert.All(downs, p => Assert.True(p >= 10, $"a step down was 90% followed after {p} periods: the estimate fell fast"));
        Assert.True(downs.Min() >= 3 * ups.Max());
        Assert.True(Claim("rises fast and falls slowly").Holds);
        Assert.True(Claim("falls slowly: after").Holds);
    }

    [Fact]
    public void Between_changes_the_estimate_tracks_the_pages_touched()
    {
        var rows = Result.Value.Tables.Single(t => t.FileName == "timeseries").Rows;
        Assert.NotEmpty(rows);
        var tracking = Claim("tracks the truth");
        Assert.True(tracking.Holds, tracking.Evidence);
    }

    [Fact]
    public void Windows_touches_all_its_memory_after_boot_and_the_estimate_starts_at_fully_active()
    {
        var spike = Result.Value.Comparisons.Single(c => c.Quantity.StartsWith("true working set in the first period", StringComparison.Ordinal));
        Assert.InRange(spike.Memvisor, 90, 100.0001);
        var start = Result.Value.Comparisons.Single(c => c.Quantity.StartsWith("estimate right after boot", StringComparison.Ordinal));
        Assert.InRange(start.Memvisor, 99.9, 100.0001);

        // Columns: guest, truth in period 1, estimate in period 2, settled level, periods to 90% down.
        // Both start at 100% (nothing measured); Windows measures its zeroing in period 1 and stays there,
        // Linux measures only the toucher and starts down at the slow gain: 0.9 + 0.1 f < 100%.
        var boot = Result.Value.Tables.Single(t => t.FileName == "boot").Rows;
        var windows = boot.Single(r => r[0] == "windows");
        var linux = boot.Single(r => r[0] == "linux");
        Assert.True(Number(windows[1]) > 2 * Number(linux[1]), $"period 1 truth: Windows {windows[1]} MB, Linux {linux[1]} MB");
        Assert.True(Number(windows[2]) > Number(linux[2]), $"period 2 estimate: Windows {windows[2]} MB, Linux {linux[2]} MB");
        Assert.True(Claim("zero-page thread").Holds);
    }

    [Fact]
    public void Started_from_zero_the_boot_spike_is_measured_in_windows_and_absent_in_linux()
    {
        // Columns: guest, truth in period 1, estimate in period 2. From 0%, period 1 of Windows measures its
        // zeroing (f near 1), so the fast average alone lifts period 2's estimate to about half of memory;
        // Linux measures only the toucher.
        var boot = Result.Value.Tables.Single(t => t.FileName == "boot").Rows;
        var windows = boot.Single(r => r[0] == "windows, estimate from 0%");
        var linux = boot.Single(r => r[0] == "linux, estimate from 0%");
        Assert.True(Number(windows[2]) >= 2 * Number(linux[2]), $"period 2 estimate from 0%: Windows {windows[2]} MB, Linux {linux[2]} MB");
        Assert.True(Number(windows[2]) < Number(boot.Single(r => r[0] == "windows")[2]), "starting from 0% the estimate is below the 100% start");
        Assert.True(Claim("measured, not assumed").Holds, Claim("measured, not assumed").Evidence);
    }

    [Fact]
    public void The_report_names_the_paper_number_ours_and_the_ratio()
    {
        var rise = Result.Value.Comparisons[0];
        var md = ExperimentReport.Markdown(Result.Value);
        Assert.Contains($"| {rise.Quantity} | 1 periods | {ExperimentReport.Number(rise.Memvisor)} periods | {ExperimentReport.Number(rise.Ratio, 3)} |", md, StringComparison.Ordinal);
        Assert.Equal(4, Result.Value.Runs);
    }

    private static ClaimResult Claim(string part) => Result.Value.Claims.Single(c => c.Claim.Contains(part, StringComparison.Ordinal));

    private static double Number(string cell) => double.Parse(cell, CultureInfo.InvariantCulture);
}
