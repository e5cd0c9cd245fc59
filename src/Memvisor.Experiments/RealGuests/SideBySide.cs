/*
 * The paper, the simulator and the real guests side by side, claim by claim: one row per claim id either
 * substrate judged (the simulator's order first), each cell the figure the claim is decided on
 * (ClaimResult.Measured, whose meaning the ClaimId documents) and whether it held. A claim one substrate
 * does not judge says so in its cell, with the reason where the real experiment gives one.
 */
using System.Globalization;

namespace Memvisor.Experiments.RealGuests;

/// <summary>Builds the side-by-side table of a real-guest report.</summary>
internal static class SideBySide
{
    /// <summary>The table: claim, paper, simulator, real guests.</summary>
    /// <param name="simulated">The simulator's result of the same experiment.</param>
    /// <param name="real">The claims judged on the real guests.</param>
    /// <param name="notJudged">Claim ids the real guests could not judge, with why.</param>
    public static ExperimentTable Table(ExperimentResult simulated, IReadOnlyList<ClaimResult> real, IReadOnlyDictionary<ClaimId, string> notJudged)
    {
        ArgumentNullException.ThrowIfNull(simulated);
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(notJudged);
        var ids = simulated.Claims.Select(c => c.Id).Concat(real.Select(c => c.Id)).Distinct().ToList();
        var rows = new List<IReadOnlyList<string>>();
        foreach (var id in ids)
        {
            var sim = simulated.Claims.FirstOrDefault(c => c.Id == id);
            var ours = real.FirstOrDefault(c => c.Id == id);
            var paper = ours?.Paper ?? sim?.Paper;
            rows.Add(
            [
                id.ToString(),
                (ours ?? sim)!.Claim.Replace("|", "\\|", StringComparison.Ordinal), // a table cell: "mean |estimate - truth|" must not end it
                paper is { } p ? ExperimentReport.Number(p) : "none given",
                sim is null ? "not an experiment of the simulator" : Cell(sim),
                ours is not null ? Cell(ours) : "not judged: " + (notJudged.TryGetValue(id, out var why) ? why : "not measurable on these guests"),
            ]);
        }

        return new ExperimentTable("side-by-side", "The paper, the simulator and the real guests, claim by claim (the figure each claim is decided on)", ["claim id", "claim", "paper", "simulator", "real guests"], rows);
    }

    private static string Cell(ClaimResult claim) =>
        string.Create(CultureInfo.InvariantCulture, $"{ExperimentReport.Number(claim.Measured)} ({(claim.Holds ? "holds" : "does not hold")})");
}

/// <summary>The smallest, middle and largest of repeated measurements.</summary>
/// <param name="Min">The smallest.</param>
/// <param name="Median">The median.</param>
/// <param name="Max">The largest.</param>
public readonly record struct Spread(double Min, double Median, double Max)
{
    /// <summary>The spread of <paramref name="values"/> (at least one).</summary>
    public static Spread Of(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("A spread needs at least one value.", nameof(values));
        }

        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        return new Spread(sorted[0], median, sorted[^1]);
    }

    /// <summary>"median (min-max)" for reports.</summary>
    public string Text(int decimals = 1) =>
        $"{ExperimentReport.Number(Median, decimals)} ({ExperimentReport.Number(Min, decimals)}..{ExperimentReport.Number(Max, decimals)})";
}
