using System.Text.Json;
using CsCheck;
using Memvisor.Core.Allocation;
using Memvisor.Core.Memory;
using Memvisor.Scenarios;

namespace Memvisor.Scenarios.Tests;

public class ScenarioWriterTests
{
    /// <summary>A scenario with every field away from its default and every optional field set.</summary>
    internal static Scenario Everything { get; } = new()
    {
        Name = "everything \"quoted\" é",
        Description = "all fields set",
        Seed = ulong.MaxValue,
        DurationSeconds = 123.456,
        SampleIntervalSeconds = 0.25,
        Host = new HostSpec
        {
            MemoryMB = 2048.5, DmaBoundaryMB = 512, SwapMB = 0, SwapDirectory = "/var/tmp/swap here", IdleTax = 0.1 + 0.2,
            IdleTaxChanges = [new IdleTaxChange(10, 0.5), new IdleTaxChange(20.5, 0)], BalancePeriodSeconds = 7, HighPercent = 8, SoftPercent = 5,
            HardPercent = 3, LowPercent = 0.5, Sharing = false, ShareScanPerVmPagesPerSecond = 1e-3, ShareScanHostPagesPerSecond = 1e6,
            Salting = ShareSaltMode.UniformPagesAcrossVms, SamplingPeriodSeconds = 12, SamplingPages = 7, SamplingInitialActivePercent = 0,
            BalloonMaxPercent = 80, IoRemap = false, IoRemapThresholdCopies = 3,
        },
        Vms =
        [
            new VmSpec
            {
                Name = "w", MemoryMB = 512, MinMB = 64, Shares = Shares.Of(1234.5), OverheadMB = 0, Guest = GuestFlavour.Windows, Image = "win2k",
                BalloonDriver = BalloonDriverSpec.Slow, BalloonMaxMB = 300, BalloonTargetMB = 200, ShareSalt = ulong.MaxValue, PowerOnSeconds = 1.5, PowerOffSeconds = 100,
                Workload = new WorkloadSpec
                {
                    Kind = WorkloadKind.Toucher, WorkingSetMB = 1.0 / 3, Distribution = AccessPattern.Zipf, ZipfExponent = 0.8,
                    Phases = [new WorkloadPhase(5, 10), new WorkloadPhase(6, 0)], FileSetMB = 7, Clients = 10_000,
                },
            },
            new VmSpec { Name = "l", MemoryMB = 64, Shares = Shares.Low, BalloonDriver = BalloonDriverSpec.Disabled, Workload = new WorkloadSpec { Kind = WorkloadKind.FileServer } },
            new VmSpec { Name = "h", MemoryMB = 64, Shares = Shares.High, BalloonDriver = BalloonDriverSpec.Absent, Workload = new WorkloadSpec { Kind = WorkloadKind.Network } },
        ],
        Latencies = new LatencySpec
        {
            MinorFaultMicroseconds = 1, ZeroFillFaultMicroseconds = 2, CopyOnWriteFaultMicroseconds = 3, BalloonTouchFaultMicroseconds = 4, HostSwapInMicroseconds = 5,
            GuestMinorFaultMicroseconds = 6, GuestDiskReadMicroseconds = 7, GuestDiskWriteMicroseconds = 8, BounceCopyMicroseconds = 0,
        },
    };

    [Fact]
    public void Every_field_written_reads_back_into_an_equal_model()
    {
        var text = ScenarioWriter.Write(Everything);
        var back = ScenarioReader.Parse(text);

        Assert.Equivalent(Everything, back, strict: true);
        Assert.Equal(text, ScenarioWriter.Write(back));
    }

    [Fact]
    public void Names_are_the_schemas_and_unset_fields_are_left_out()
    {
        var text = ScenarioWriter.Write(Everything with { Host = new HostSpec(), Latencies = new LatencySpec() });

        Assert.Contains("\"salting\": \"single\"", text, StringComparison.Ordinal);
        Assert.Contains("\"balloonDriver\": \"slow\"", text, StringComparison.Ordinal);
        Assert.Contains("\"guest\": \"windows\"", text, StringComparison.Ordinal);
        Assert.Contains("\"kind\": \"fileserver\"", text, StringComparison.Ordinal);
        Assert.Contains("\"distribution\": \"zipf\"", text, StringComparison.Ordinal);
        Assert.Contains("\"shares\": 1234.5", text, StringComparison.Ordinal);
        Assert.Contains("\"shares\": \"low\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("null", text, StringComparison.Ordinal);
        Assert.DoesNotContain("swapDirectory", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\r", text, StringComparison.Ordinal);
        Assert.EndsWith("}\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Any_valid_scenario_round_trips()
    {
        var workload = Gen.Select(Gen.Enum<WorkloadKind>(), Gen.Double[0, 4096], Gen.Enum<AccessPattern>(), Gen.Double[0.01, 10], Gen.Double[0, 4096].Array[0, 3], Gen.Int[1, 10_000])
            .Select((kind, ws, dist, zipf, phases, clients) => new WorkloadSpec
            {
                Kind = kind, WorkingSetMB = ws, Distribution = dist, ZipfExponent = zipf, Clients = clients,
                Phases = [.. phases.Select((mb, i) => new WorkloadPhase(i * 10.5, mb))],
            });
        var shares = Gen.OneOf(Gen.Const(Shares.Low), Gen.Const(Shares.Normal), Gen.Const(Shares.High), Gen.Double[1, 1e12].Select(Shares.Of));
        var vm = Gen.Select(Gen.Double[1, 1e6], shares, Gen.Enum<GuestFlavour>(), Gen.Enum<BalloonDriverSpec>(), Gen.Select(Gen.Bool, Gen.ULong, (set, v) => set ? v : (ulong?)null), Gen.Select(Gen.Bool, Gen.Double[0, 1e3], (set, v) => set ? v : (double?)null), workload)
            .Select((mb, sh, guest, driver, salt, overhead, w) => new VmSpec
            {
                Name = "x", MemoryMB = mb, MinMB = mb / 2, Shares = sh, Guest = guest, BalloonDriver = driver, ShareSalt = salt, OverheadMB = overhead, Workload = w,
            });
        var scenario = Gen.Select(Gen.ULong, Gen.Double[0.001, 1e7], Gen.Enum<ShareSaltMode>(), Gen.Double[0, 0.99], vm.Array[1, 4], Gen.Select(Gen.Bool, Gen.Double[0, 3.6e9], (set, v) => set ? v : (double?)null))
            .Select((seed, duration, salting, tau, vms, swapIn) => new Scenario
            {
                Seed = seed, DurationSeconds = duration, Host = new HostSpec { Salting = salting, IdleTax = tau },
                Vms = [.. vms.Select((v, i) => v with { Name = $"vm{i}" })], Latencies = new LatencySpec { HostSwapInMicroseconds = swapIn },
            });

        scenario.Sample(s => Assert.Equivalent(s, ScenarioReader.Parse(ScenarioWriter.Write(s)), strict: true), iter: 300);
    }

    [Fact]
    public void Json_serialization_of_a_scenario_uses_the_schemas_names_and_reads_back()
    {
        var json = JsonSerializer.Serialize(new Holder(Everything));

        Assert.Contains("\"salting\":\"zero-only\"", json, StringComparison.Ordinal);
        Assert.Equivalent(Everything, JsonSerializer.Deserialize<Holder>(json)!.Scenario, strict: true);
    }

    [Fact]
    public void An_invalid_embedded_scenario_is_a_json_error_naming_the_problem()
    {
        var e = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Holder>("""{ "Scenario": { "host": { "salting": "OneSalt" }, "vms": [] } }"""));
        Assert.Contains("host.salting: \"OneSalt\"", e.Message, StringComparison.Ordinal);
    }

    private sealed record Holder(Scenario Scenario);
}
