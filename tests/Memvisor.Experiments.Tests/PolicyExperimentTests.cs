using System.Globalization;

namespace Memvisor.Experiments.Tests;

/// <summary>The policy experiment (Figure 8) at reduced scale: hard and low are brief, ballooning reclaims most, idle VMs lose memory to active ones.</summary>
public sealed class PolicyExperimentTests
{
    private static readonly Lazy<ExperimentResult> Reduced = new(() => new PolicyExperiment().Run(new ExperimentContext(ExperimentScale.Reduced)));

    [Fact]
    public void Hard_and_low_are_brief_and_balloons_hold_most_reclaimed_memory()
    {
        var result = Reduced.Value;

        var states = Table(result, "states");
        var tight = Cell(states, "hard", 1) + Cell(states, "low", 1);
        Assert.True(tight <= 0.05 * result.SimulatedSeconds, $"hard + low for {tight} s of {result.SimulatedSeconds} s");
        var seconds = states.Rows.Sum(r => double.Parse(r[1], CultureInfo.InvariantCulture));
        Assert.Equal(result.SimulatedSeconds, seconds, 0);
        var balloonShare = result.Comparisons.Single(c => c.Quantity.StartsWith("ballooning's share", StringComparison.Ordinal)).Memvisor;
        Assert.True(balloonShare > 50, $"balloon share {balloonShare}%");
        Assert.True(result.Claims[0].Holds, result.Claims[0].Evidence);
    }

    [Fact]
    public void The_least_active_VMs_hold_less_than_their_share_and_the_most_active_more()
    {
        var vms = Table(Reduced.Value, "vms");
        // Columns: VM, role, configured, shares, target, held, entitlement, active estimate, ...
        var rows = vms.Rows.Select(r => (Name: r[0], Configured: D(r[2]), Held: D(r[5]), Entitlement: D(r[6]), Active: D(r[7]))).ToList();
        var byActivity = rows.OrderBy(r => r.Active / r.Configured).ToList();

        Assert.All(byActivity.Take(2), r => Assert.True(r.Held < r.Entitlement, $"{r.Name}: holds {r.Held} MB, entitled to {r.Entitlement} MB"));
        Assert.True(byActivity[^1].Held > byActivity[^1].Entitlement, $"{byActivity[^1].Name}: holds {byActivity[^1].Held} MB, entitled to {byActivity[^1].Entitlement} MB");
        Assert.True(Reduced.Value.Claims[2].Holds, Reduced.Value.Claims[2].Evidence);
    }

    [Fact]
    public void The_report_states_the_papers_overcommitment_ours_and_the_ratio()
    {
        var md = ExperimentReport.Markdown(Reduced.Value);

        // Reduced: 1472 / 4 = 368 MB configured + 5 * 8 MB overhead on 256 MB: (408 / 256 - 1) * 100 = 59.375%; 59.375 / 60 = 0.990.
        Assert.Contains("| overcommitment (configured + overhead over machine memory) | 60 % | 59.38 % | 0.99 |", md, StringComparison.Ordinal);
        Assert.Contains("(median) | 5 MB |", md, StringComparison.Ordinal); // the paper's 20 MB on 1 GB, scaled to 256 MB
    }

    [Fact]
    public void Spearman_of_a_reversed_order_is_minus_one_and_ties_share_ranks()
    {
        Assert.Equal(-1, PolicyExperiment.Spearman([1, 2, 3], [30, 20, 10]), 9);
        // x ranks 0, 1, 2; y = (5, 5, 9) ranks 0.5, 0.5, 2: deviations (-1, 0, 1) and (-0.5, -0.5, 1) -> 1.5 / sqrt(2 * 1.5) = 0.866.
        Assert.Equal(1.5 / Math.Sqrt(2 * 1.5), PolicyExperiment.Spearman([1, 2, 3], [5, 5, 9]), 9);
    }

    private static ExperimentTable Table(ExperimentResult result, string name) => result.Tables.Single(t => t.FileName == name);

    private static double Cell(ExperimentTable table, string key, int column) => D(table.Rows.Single(r => r[0] == key)[column]);

    private static double D(string text) => double.Parse(text, CultureInfo.InvariantCulture);
}
