using Memvisor.Core.Statistics;
using Memvisor.Reporting;
using Memvisor.Scenarios;

namespace Memvisor.Reporting.Tests;

public class RunRecorderTests
{
    [Fact]
    public void Samples_are_kept_in_the_order_recorded()
    {
        var recorder = RunRecorder.For(SyntheticRun.Scenario(5));
        var samples = SyntheticRun.Samples(5);

        foreach (var s in samples)
            recorder.Record(s);

        Assert.Equal(samples, recorder.Samples);
        Assert.Same(samples[^1], recorder.Last);
    }

    [Fact]
    public void A_sample_not_after_the_previous_one_is_refused()
    {
        var recorder = new RunRecorder();
        recorder.Record(new HostSample { TimeSeconds = 2 });

        var e = Assert.Throws<ArgumentException>(() => recorder.Record(new HostSample { TimeSeconds = 2 }));

        Assert.Contains("TimeSeconds = 2: must be after the previous sample's 2", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, recorder.Count);
    }

    [Fact]
    public void Two_vms_of_the_same_name_in_one_sample_are_refused()
    {
        var recorder = new RunRecorder();

        var e = Assert.Throws<ArgumentException>(() => recorder.Record(new HostSample { TimeSeconds = 1, Vms = [new VmSample { Name = "a" }, new VmSample { Name = "a" }] }));

        Assert.Contains("'a' appears twice", e.Message, StringComparison.Ordinal);
    }
}
