using Memvisor.Core.Allocation;
using Memvisor.Core.Memory;
using Memvisor.Scenarios;

namespace Memvisor.Scenarios.Tests;

public class ScenarioReaderTests
{
    /// <summary>A valid VM list to complete files whose point is elsewhere.</summary>
    internal const string OneVm = """ "vms": [ { "name": "a", "memoryMB": 64 } ] """;

    [Fact]
    public void A_full_scenario_reads_into_the_model()
    {
        var s = ScenarioReader.Parse("""
            {
              "name": "two", "seed": 7, "durationSeconds": 120,
              "host": { "memoryMB": 512, "idleTax": 0, "salting": "per-vm" },
              "vms": [
                { "name": "a", "memoryMB": 256, "minMB": 32, "shares": "high", "guest": "windows",
                  "workload": { "kind": "toucher", "workingSetMB": 100, "distribution": "zipf", "phases": [ { "startSeconds": 60, "workingSetMB": 20 } ] } },
                { "name": "b", "memoryMB": 256, "shares": 3000, "balloonDriver": "absent", "workload": { "kind": "fileserver" } }
              ]
            }
            """);
        Assert.Equal("two", s.Name);
        Assert.Equal(7UL, s.Seed);
        Assert.Equal(512, s.Host.MemoryMB);
        Assert.Equal(0, s.Host.IdleTax);
        Assert.Equal(ShareSaltMode.PerVm, s.Host.Salting);
        Assert.Equal(6, s.Host.HighPercent);
        Assert.Equal(2, s.Vms.Count);
        Assert.Equal(Shares.High, s.Vms[0].Shares);
        Assert.Equal(GuestFlavour.Windows, s.Vms[0].Guest);
        Assert.Equal(WorkloadKind.Toucher, s.Vms[0].Workload.Kind);
        Assert.Equal(AccessPattern.Zipf, s.Vms[0].Workload.Distribution);
        Assert.Equal(new WorkloadPhase(60, 20), s.Vms[0].Workload.Phases[0]);
        Assert.Equal(Shares.Of(3000), s.Vms[1].Shares);
        Assert.Equal(BalloonDriverSpec.Absent, s.Vms[1].BalloonDriver);
        Assert.Equal(WorkloadKind.FileServer, s.Vms[1].Workload.Kind);
        Assert.Equal(GuestFlavour.Linux, s.Vms[1].Guest);
        Assert.Null(s.Vms[1].BalloonTargetMB);
    }

    [Theory]
    [InlineData("single", ShareSaltMode.SingleSalt)]
    [InlineData("per-vm", ShareSaltMode.PerVm)]
    [InlineData("zero-only", ShareSaltMode.UniformPagesAcrossVms)]
    public void Each_salting_name_of_the_schema_is_cores_salt_mode(string name, ShareSaltMode mode)
    {
        var s = ScenarioReader.Parse($$"""{ "host": { "salting": "{{name}}" }, {{OneVm}} }""");
        Assert.Equal(mode, s.Host.Salting);
    }

    [Fact]
    public void A_fixed_balloon_target_within_the_limit_is_read()
    {
        // 256 MB at the default 65%: limit 166.4 MB; 128 MB (the paper's 256 MB VM ballooned to 128 MB) fits.
        var s = ScenarioReader.Parse("""{ "vms": [ { "name": "a", "memoryMB": 256, "balloonTargetMB": 128 }, { "name": "b", "memoryMB": 64, "balloonTargetMB": 0 } ] }""");
        Assert.Equal(128, s.Vms[0].BalloonTargetMB);
        Assert.Equal(0, s.Vms[1].BalloonTargetMB);
    }

    [Fact]
    public void Latencies_given_in_microseconds_are_read_and_the_rest_stay_unset()
    {
        var s = ScenarioReader.Parse($$"""{ "latencies": { "hostSwapInMicroseconds": 8000, "bounceCopyMicroseconds": 0.5 }, {{OneVm}} }""");
        Assert.Equal(8000, s.Latencies.HostSwapInMicroseconds);
        Assert.Equal(0.5, s.Latencies.BounceCopyMicroseconds);
        Assert.Null(s.Latencies.GuestDiskReadMicroseconds);
    }

    [Theory]
    [InlineData("""{ "latencies": { "hostSwapInMs": 8 } }""", "latencies.hostSwapInMs: unknown field")]
    [InlineData("""{ "latencies": { "guestDiskReadMicroseconds": -1 } }""", "latencies.guestDiskReadMicroseconds: -1; expected a number from 0")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": -5 } ] }""", "vms[0].memoryMB: -5; expected a number from 1")]
    [InlineData("""{ "vms": [ { "name": "a" } ] }""", "vms[0].memoryMB: missing")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "memroyMB": 1 } ] }""", "vms[0].memroyMB: unknown field")]
    [InlineData("""{ "host": { "memoryMb": 64 } }""", "host.memoryMb: unknown field (did you mean \"memoryMB\"?)")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "guest": "plan9" } ] }""", "vms[0].guest: \"plan9\"; expected one of \"linux\", \"windows\"")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "guest": "Linux" } ] }""", "vms[0].guest: \"Linux\"; expected one of \"linux\", \"windows\"")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "workload": { "kind": "FileServer" } } ] }""", "vms[0].workload.kind: \"FileServer\"; expected one of \"idle\", \"toucher\", \"fileserver\"")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "workload": { "distribution": 1 } } ] }""", "vms[0].workload.distribution: 1; expected one of \"uniform\", \"zipf\", \"cyclic\", \"strided\"")]
    [InlineData("""{ "host": { "salting": "OneSalt" } }""", "host.salting: \"OneSalt\"; expected one of \"single\", \"per-vm\", \"zero-only\"")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "balloonDriver": "Active" } ] }""", "vms[0].balloonDriver: \"Active\"; expected one of \"active\", \"absent\"")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "minMB": 65 } ] }""", "vms[0].minMB: 65; expected at most memoryMB (64)")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "balloonTargetMB": 64 } ] }""", "vms[0].balloonTargetMB: 64; expected less than memoryMB (64)")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "balloonTargetMB": -1 } ] }""", "vms[0].balloonTargetMB: -1; expected a number from 0")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 256, "balloonTargetMB": 167 } ] }""", "vms[0].balloonTargetMB: 167; expected at most the balloon limit (166.4 MiB")]
    [InlineData("""{ "host": { "balloonMaxPercent": 50 }, "vms": [ { "name": "a", "memoryMB": 256, "balloonTargetMB": 129 } ] }""", "vms[0].balloonTargetMB: 129; expected at most the balloon limit (128 MiB")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 256, "balloonMaxMB": 32, "balloonTargetMB": 64 } ] }""", "vms[0].balloonTargetMB: 64; expected at most the balloon limit (32 MiB")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64 }, { "name": "a", "memoryMB": 64 } ] }""", "vms[1].name: \"a\"; expected a name no other VM has")]
    [InlineData("""{ "host": { "idleTax": 1 } }""", "host.idleTax: 1; expected a number from 0 to 0.99")]
    [InlineData("""{ "host": { "highPercent": 3 } }""", "host.highPercent: 3/4/2/1; expected thresholds with high > soft > hard > low")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "shares": "lots" } ] }""", "vms[0].shares: \"lots\"; expected \"low\", \"normal\", \"high\" or a number of shares from 1 to 1000000000000")]
    [InlineData("""{ "seed": "abc" }""", "seed: \"abc\"; expected a whole number")]
    [InlineData("""{ "vms": {} }""", "vms: an object; expected an array")]
    [InlineData("""[1, 2]""", "(top level): an array; expected an object")]
    [InlineData("""{ "vms": [ """, "not valid JSON")]
    public void Bad_files_get_an_error_naming_the_field_the_value_and_what_was_expected(string json, string expected)
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(json, "test.json"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("test.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void All_problems_of_a_file_are_reported_together()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse("""{ "durationSeconds": 0, "vms": [ { "name": "a", "memoryMB": 0 } ] }"""));
        Assert.Equal(2, e.Errors.Count);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.ReadFile("/nonexistent/s.json"));
        Assert.Contains("/nonexistent/s.json", e.Message, StringComparison.Ordinal);
    }
}
