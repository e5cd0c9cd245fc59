/*
 * The real-guest experiments at reduced size, run once per test class: skipped with the reason and the
 * install line where this host cannot boot guests (.ci/run installs the packages); one class at a time,
 * since guests booting side by side under TCG on a 2-core host slow each other and blur the timing the
 * experiments measure.
 */
using Memvisor.Experiments.RealGuests;
using Memvisor.Qemu.Launch;
using Memvisor.Testing;

namespace Memvisor.Experiments.Tests.RealGuests;

/// <summary>The collection every real-guest experiment test class belongs to.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealGuestExperimentGroup
{
    /// <summary>The collection's name.</summary>
    public const string Name = "real-guest experiments";
}

internal static class RealGuestRuns
{
    /// <summary>Runs the real-guest experiment <paramref name="name"/> at reduced size, or skips the test with the reason.</summary>
    public static ExperimentResult<TMeasurements> Run<TMeasurements>(string name)
        where TMeasurements : class
    {
        if (RealGuestCatalog.WhyUnavailable() is { } why)
        {
            Assert.Skip(why);
        }

        RealGuestHostLock.Acquire();
        var experiment = RealGuestCatalog.Find(name) ?? throw new InvalidOperationException($"no real-guest experiment {name}");
        var progress = new ToOutput(TestContext.Current.TestOutputHelper);
        var result = (ExperimentResult<TMeasurements>)experiment.Run(new ExperimentContext(ExperimentScale.Reduced, Progress: progress, CancellationToken: TestContext.Current.CancellationToken));
        foreach (var claim in result.Claims)
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"{claim.Id}: {(claim.Holds ? "holds" : "does not hold")}: {claim.Evidence}");
        }

        Assert.Empty(GuestProcesses.Pids);
        return result;
    }

    private sealed class ToOutput(ITestOutputHelper? output) : IProgress<string>
    {
        public void Report(string value) => output?.WriteLine(value);
    }

    /// <summary>The report has the side-by-side table with a row for every claim id of the simulator's experiment.</summary>
    public static void AssertSideBySide(ExperimentResult real, ExperimentResult simulator)
    {
        var table = Assert.Single(real.Tables, t => t.FileName == "side-by-side");
        Assert.Equal(["claim id", "claim", "paper", "simulator", "real guests"], table.Columns);
        Assert.Subset(table.Rows.Select(r => r[0]).ToHashSet(), simulator.Claims.Select(c => c.Id.ToString()).ToHashSet());
        Assert.All(real.Claims, c => Assert.Contains(table.Rows, r => r[0] == c.Id.ToString() && r[4].EndsWith(c.Holds ? "(holds)" : "(does not hold)", StringComparison.Ordinal)));
    }
}
