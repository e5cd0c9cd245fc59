using CsCheck;
using Memvisor.Core.Statistics;
using Memvisor.Reporting;
using Memvisor.Scenarios;
using Memvisor.Testing;

namespace Memvisor.Reporting.Tests;

public class OutputJsonTests
{
    [Fact]
    public void Timeseries_json_reads_back_as_the_samples_written_with_unknown_values_as_null()
    {
        using var folder = new OutputFolder();
        var samples = SyntheticRun.Samples(30);
        var path = folder.Full("timeseries.json");
        File.WriteAllText(path, RunOutputs.TimeSeriesJson(SyntheticRun.Scenario(30), samples));

        var text = File.ReadAllText(path);
        var back = RunOutputs.ReadTimeSeries(path);

        // The VM "web" has no known true working set: NaN is written as null and read back as NaN.
        Assert.Contains("\"trueWorkingSetMB\":null", text, StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", text, StringComparison.Ordinal);
        Assert.Equal("synthetic", back.Scenario);
        Assert.Equal(42UL, back.Seed);
        AssertSameSamples(samples, back.Samples);
    }

    [Fact]
    public void Any_finite_or_unknown_values_round_trip_exactly()
    {
        var value = Gen.Frequency((8, Gen.Double.Where(double.IsFinite)), (1, Gen.Const(double.NaN)));
        var vm = Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 1, 12], value, value, value, Gen.Long, Gen.Bool)
            .Select((name, granted, trueWs, throughput, mismatches, on) => new VmSample
            {
                Name = name, GrantedMB = granted, TrueWorkingSetMB = trueWs, Throughput = throughput, DataMismatches = mismatches, PoweredOn = on,
            });
        var host = Gen.Select(Gen.Double[0.001, 100], value, Gen.Int[0, 3].Select(i => FreeMemoryStates.Ordered[i]), vm.List[0, 4])
            .Select((step, free, state, vms) => (step, sample: new HostSample { FreeMB = free, State = state, Vms = vms.DistinctBy(v => v.Name).ToList() }));

        host.List[0, 20].Sample(rows =>
        {
            var time = 0.0;
            var samples = rows.Select(r => r.sample with { TimeSeconds = time += r.step }).ToList();
            using var folder = new OutputFolder();
            var path = folder.Full("timeseries.json");
            File.WriteAllText(path, RunOutputs.TimeSeriesJson(SyntheticRun.Scenario(), samples));
            AssertSameSamples(samples, RunOutputs.ReadTimeSeries(path).Samples);
        }, iter: 200);
    }

    [Fact]
    public void Summary_json_reads_back_to_the_same_text_and_holds_no_swap_folder()
    {
        using var folder = new OutputFolder();
        var scenario = SyntheticRun.Scenario();
        var summary = RunSummary.FromSamples(scenario, SyntheticRun.Samples(), events: 987);
        var path = folder.Full("summary.json");
        var text = RunOutputs.SummaryJson(scenario, summary);
        File.WriteAllText(path, text);

        var back = RunOutputs.ReadSummary(path);

        Assert.Equal(text, RunOutputs.SummaryJson(back.Scenario, back.Summary));
        Assert.Equal(987, back.Summary.Events);
        Assert.Equal(summary.Host.TimeInState, back.Summary.Host.TimeInState);
        Assert.Equal(summary.Vms, back.Summary.Vms);
        Assert.Null(back.Scenario.Host.SwapDirectory);
        Assert.DoesNotContain("memvisor-swap-secret", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Reading_a_file_of_another_kind_names_the_format()
    {
        using var folder = new OutputFolder();
        var path = folder.Full("summary.json");
        File.WriteAllText(path, RunOutputs.SummaryJson(SyntheticRun.Scenario(), RunSummary.FromSamples(SyntheticRun.Scenario(), [])));

        var e = Assert.Throws<InvalidDataException>(() => RunOutputs.ReadTimeSeries(path));
        Assert.Contains("memvisor-timeseries/1", e.Message, StringComparison.Ordinal);
    }

    private static void AssertSameSamples(IReadOnlyList<HostSample> expected, IReadOnlyList<HostSample> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i] with { Vms = [] }, actual[i] with { Vms = [] });
            Assert.Equal(expected[i].Vms, actual[i].Vms);
        }
    }
}
