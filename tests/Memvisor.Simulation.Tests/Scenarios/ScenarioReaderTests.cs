using Memvisor.Scenarios;

namespace Memvisor.Simulation.Tests.Scenarios;

public class ScenarioReaderTests
{
    [Fact]
    public void A_full_scenario_reads_into_the_model()
    {
        var s = ScenarioReader.Parse("""
            {
              "name": "two", "seed": 7, "durationSeconds": 120,
              "host": { "memoryMB": 512, "idleTax": 0, "salting": "per-vm" },
              "vms": [
                { "name": "a", "memoryMB": 256, "minMB": 32, "shares": "high", "guest": "windows",
                  "workload": { "kind": "toucher", "workingSetMB": 100, "phases": [ { "startSeconds": 60, "workingSetMB": 20 } ] } },
                { "name": "b", "memoryMB": 256, "shares": 3000, "balloonDriver": "absent" }
              ]
            }
            """);
        Assert.Equal("two", s.Name);
        Assert.Equal(7UL, s.Seed);
        Assert.Equal(512, s.Host.MemoryMB);
        Assert.Equal(0, s.Host.IdleTax);
        Assert.Equal(SaltingSpec.PerVm, s.Host.Salting);
        Assert.Equal(6, s.Host.HighPercent);
        Assert.Equal(2, s.Vms.Count);
        Assert.Equal("high", s.Vms[0].Shares);
        Assert.Equal("windows", s.Vms[0].Guest);
        Assert.Equal(new WorkloadPhase(60, 20), s.Vms[0].Workload.Phases[0]);
        Assert.Equal("3000", s.Vms[1].Shares);
        Assert.Equal(BalloonDriverSpec.Absent, s.Vms[1].BalloonDriver);
        Assert.Null(s.Vms[1].BalloonTargetMB);
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
    public void Latencies_given_in_microseconds_replace_the_simulators_defaults_and_the_rest_stay()
    {
        var s = ScenarioReader.Parse("""{ "latencies": { "hostSwapInMicroseconds": 8000, "bounceCopyMicroseconds": 0.5 } }""");
        var model = Simulation.Guests.LatencyModel.From(s.Latencies);

        Assert.Equal(8000, s.Latencies.HostSwapInMicroseconds);
        Assert.Null(s.Latencies.GuestDiskReadMicroseconds);
        // 8000 us = 8,000,000 ns; 0.5 us = 500 ns; an unset latency keeps its default.
        Assert.Equal(8_000_000, model.HostSwapInNanoseconds);
        Assert.Equal(500, model.BounceCopyNanoseconds);
        Assert.Equal(Simulation.Guests.LatencyModel.Default.GuestDiskReadNanoseconds, model.GuestDiskReadNanoseconds);
        Assert.Equal(Simulation.Guests.LatencyModel.Default, Simulation.Guests.LatencyModel.From(ScenarioReader.Parse("{}").Latencies));
    }

    [Theory]
    [InlineData("""{ "latencies": { "hostSwapInMs": 8 } }""", "latencies.hostSwapInMs: unknown field")]
    [InlineData("""{ "latencies": { "guestDiskReadMicroseconds": -1 } }""", "latencies.guestDiskReadMicroseconds: -1; expected a number from 0")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": -5 } ] }""", "vms[0].memoryMB: -5; expected a number from 1")]
    [InlineData("""{ "vms": [ { "name": "a" } ] }""", "vms[0].memoryMB: missing")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "memroyMB": 1 } ] }""", "vms[0].memroyMB: unknown field")]
    [InlineData("""{ "host": { "memoryMb": 64 } }""", "host.memoryMb: unknown field (did you mean \"memoryMB\"?)")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "guest": "plan9" } ] }""", "vms[0].guest: \"plan9\"; expected one of \"linux\", \"windows\"")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "minMB": 65 } ] }""", "vms[0].minMB: 65; expected at most memoryMB (64)")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "balloonTargetMB": 64 } ] }""", "vms[0].balloonTargetMB: 64; expected less than memoryMB (64)")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "balloonTargetMB": -1 } ] }""", "vms[0].balloonTargetMB: -1; expected a number from 0")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 256, "balloonTargetMB": 167 } ] }""", "vms[0].balloonTargetMB: 167; expected at most the balloon limit (166.4 MiB")]
    [InlineData("""{ "host": { "balloonMaxPercent": 50 }, "vms": [ { "name": "a", "memoryMB": 256, "balloonTargetMB": 129 } ] }""", "vms[0].balloonTargetMB: 129; expected at most the balloon limit (128 MiB")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 256, "balloonMaxMB": 32, "balloonTargetMB": 64 } ] }""", "vms[0].balloonTargetMB: 64; expected at most the balloon limit (32 MiB")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64 }, { "name": "a", "memoryMB": 64 } ] }""", "vms[1].name: \"a\"; expected a name no other VM has")]
    [InlineData("""{ "host": { "idleTax": 1 } }""", "host.idleTax: 1; expected a number from 0 to 0.99")]
    [InlineData("""{ "host": { "highPercent": 3 } }""", "host.highPercent: 3/4/2/1; expected thresholds with high > soft > hard > low")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "shares": "lots" } ] }""", "vms[0].shares: \"lots\"; expected \"low\", \"normal\", \"high\" or a positive number")]
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

public class ScenarioSchemaTests
{
    private static string RepoFile(string relative)
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Memvisor.slnx")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        Assert.NotNull(dir);
        return Path.Combine(dir, relative);
    }

    [Fact]
    public void The_built_in_default_scenario_is_valid_and_overcommits_by_more_than_half()
    {
        var s = Memvisor.Simulation.Scenarios.BuiltInScenarios.Default;
        Assert.Equal(5, s.Vms.Count);
        Assert.True(s.Vms.Sum(v => v.MemoryMB) > 1.5 * s.Host.MemoryMB);
        Assert.Contains(s.Vms, v => v.Guest == "windows");
        Assert.Contains(s.Vms, v => v.Guest == "linux");
    }

    [Fact]
    public void Every_field_the_schema_publishes_with_a_default_is_accepted_by_the_reader_with_that_default()
    {
        using var schema = System.Text.Json.JsonDocument.Parse(File.ReadAllText(RepoFile("docs/scenario.schema.json")));
        var root = schema.RootElement.GetProperty("properties");
        var host = root.GetProperty("host").GetProperty("properties");
        var vm = root.GetProperty("vms").GetProperty("items").GetProperty("properties");
        var workload = vm.GetProperty("workload").GetProperty("properties");
        var latencies = root.GetProperty("latencies").GetProperty("properties");

        static string Defaults(System.Text.Json.JsonElement props) => string.Join(", ", props.EnumerateObject()
            .Where(p => p.Value.TryGetProperty("default", out _))
            .Select(p => $"\"{p.Name}\": {p.Value.GetProperty("default").GetRawText()}"));

        var json = $$"""
            { {{Defaults(root)}},
              "host": { {{Defaults(host)}} },
              "latencies": { {{Defaults(latencies)}} },
              "vms": [ { "name": "a", "memoryMB": 64, {{Defaults(vm)}}, "workload": { {{Defaults(workload)}} } } ] }
            """;
        var s = ScenarioReader.Parse(json);
        Assert.Equal(new HostSpec(), s.Host);
        Assert.Equal(new WorkloadSpec().Kind, s.Vms[0].Workload.Kind);
        Assert.True(host.EnumerateObject().Count() >= 19);

        // The schema's latency defaults are the simulator's (microseconds to nanoseconds), all nine of them.
        Assert.Equal(9, latencies.EnumerateObject().Count());
        Assert.Equal(Simulation.Guests.LatencyModel.Default, Simulation.Guests.LatencyModel.From(s.Latencies));
    }
}
