using Memvisor.Core.Allocation;
using Memvisor.Scenarios;
using Memvisor.Core.Statistics;

namespace Memvisor.Reporting.Tests;

/// <summary>
/// A made-up but plausible run for report tests: three VMs on a 1024 MiB host whose free memory dips
/// through the soft and hard states and recovers. Pure arithmetic of the time, so it is the same every call.
/// </summary>
internal static class SyntheticRun
{
    public static Scenario Scenario(int seconds = 120) => new()
    {
        Name = "synthetic",
        Description = "Three VMs; free memory dips through soft and hard and recovers.",
        Seed = 42,
        DurationSeconds = seconds,
        SampleIntervalSeconds = 1,
        Host = new HostSpec { MemoryMB = 1024, SwapMB = 2048, SwapDirectory = "/var/tmp/memvisor-swap-secret" },
        Vms =
        [
            new VmSpec { Name = "db", MemoryMB = 512, MinMB = 128, Workload = new WorkloadSpec { Kind = WorkloadKind.Toucher, WorkingSetMB = 300 } },
            new VmSpec { Name = "web", MemoryMB = 384, Workload = new WorkloadSpec { Kind = WorkloadKind.FileServer } },
            new VmSpec { Name = "idle box", MemoryMB = 256, Shares = Shares.High, PowerOnSeconds = 10, PowerOffSeconds = 100 },
        ],
    };

    public static IReadOnlyList<HostSample> Samples(int seconds = 120)
    {
        var samples = new List<HostSample>(seconds);
        for (var t = 1; t <= seconds; t++)
        {
            // Free memory: 150 MiB, falling to 12 MiB at t = 60 (a V shape), then back.
            var free = 12 + (138 * Math.Abs(t - 60) / 60.0);
            var state = free >= 61.44 ? "high" : free >= 40.96 ? "soft" : free >= 20.48 ? "hard" : "low";
            var pressure = Math.Max(0, 61.44 - free);
            var vms = new List<VmSample>
            {
                Vm("db", t, 512, 128, pressure, workingSet: t < 40 ? 300 : 200, trueKnown: true),
                Vm("web", t, 384, 0, pressure * 0.5, workingSet: 150, trueKnown: false),
            };
            if (t >= 10)
                vms.Add(Vm("idle box", t, 256, 0, pressure * 0.8, workingSet: 10, trueKnown: true) with { PoweredOn = t < 100, Throughput = 0 });
            samples.Add(new HostSample
            {
                TimeSeconds = t,
                MemoryMB = 1024,
                FreeMB = free,
                State = state,
                SharedSavedMB = vms.Sum(v => v.SharedSavedMB),
                SwapUsedMB = vms.Sum(v => v.SwappedMB),
                BalloonMB = vms.Sum(v => v.BalloonMB),
                Vms = vms,
            });
        }
        return samples;
    }

    private static VmSample Vm(string name, int t, double max, double min, double pressure, double workingSet, bool trueKnown)
    {
        var balloon = Math.Min(max * 0.3, pressure * 2.5);
        var swapped = pressure > 30 ? (pressure - 30) * 1.5 : 0;
        var shared = Math.Min(max * 0.3, t * 0.8);
        var granted = max - balloon - swapped - (max * 0.1 * Math.Exp(-t / 20.0));
        var active = workingSet * (1 + (0.1 * Math.Sin(t / 7.0)));
        return new VmSample
        {
            Name = name,
            ConfiguredMB = max,
            MinMB = min,
            Shares = max * 10,
            TargetMB = max - (pressure * 3),
            GrantedMB = granted,
            PrivateMB = granted - shared,
            ActiveEstimateMB = active,
            TrueWorkingSetMB = trueKnown ? workingSet : double.NaN,
            BalloonMB = balloon,
            BalloonTargetMB = Math.Min(max * 0.3, pressure * 3),
            SwappedMB = swapped,
            SwapTargetMB = swapped * 1.2,
            SharedMB = shared,
            SharedSavedMB = shared * 0.6,
            ZeroMB = shared * 0.25,
            OverheadMB = 32,
            Throughput = 1000 - (swapped * 8) - (balloon * 0.5),
            GuestSwapPages = balloon > 50 ? balloon - 50 : 0,
            HostSwapInPages = swapped > 0 ? swapped / 4 : 0,
            BounceCopies = 3,
            DataMismatches = 0,
        };
    }
}
