/*
 * From a scenario's description of a VM (Memvisor.Scenarios: VmSpec, WorkloadSpec) to the simulated guest
 * that runs it: flavour, image, seed, balloon driver and workload, with sizes converted from MiB to
 * pages. Only the mapping lives here; what each piece does is in its own file.
 */
using Memvisor.Core.Memory;
using Memvisor.Scenarios;
using Memvisor.Simulation.Images;
using Memvisor.Simulation.Workloads;

namespace Memvisor.Simulation.Guests;

/// <summary>Builds simulated guests and workloads from a scenario's VM descriptions.</summary>
public static class GuestCatalog
{
    /// <summary>The guest options of <paramref name="vm"/>, the <paramref name="vmIndex"/>-th VM of a scenario with seed <paramref name="scenarioSeed"/>.</summary>
    public static GuestOsOptions Options(VmSpec vm, ulong scenarioSeed, int vmIndex, LatencySpec? latencies = null)
    {
        ArgumentNullException.ThrowIfNull(vm);
        return new GuestOsOptions
        {
            Flavour = vm.Guest,
            Image = vm.Guest == GuestFlavour.Windows ? GuestImage.Windows(vm.Image) : GuestImage.Linux(vm.Image),
            Seed = PageContent.Mix(scenarioSeed, (ulong)vmIndex),
            Latency = latencies is null ? LatencyModel.Default : LatencyModel.From(latencies),
        };
    }

    /// <summary>The balloon driver <paramref name="vm"/> runs, or null when it has none (the host's per-VM cap is the host's business: BalloonOptions.MaxPages).</summary>
    public static BalloonDriverOptions? BalloonDriver(VmSpec vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        return vm.BalloonDriver switch
        {
            BalloonDriverSpec.Absent => null,
            BalloonDriverSpec.Disabled => new BalloonDriverOptions { Enabled = false },
            BalloonDriverSpec.Slow => BalloonDriverOptions.Slow,
            _ => new BalloonDriverOptions(),
        };
    }

    /// <summary>The workload a VM runs.</summary>
    public static IWorkload Workload(WorkloadSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Kind switch
        {
            WorkloadKind.Idle => new IdleWorkload(),
            WorkloadKind.Toucher => new ToucherWorkload(new ToucherOptions
            {
                WorkingSetPages = Pages(spec.WorkingSetMB),
                Pattern = spec.Distribution,
                ZipfExponent = spec.ZipfExponent,
                Phases = [.. spec.Phases.Select(p => new ToucherPhase(p.StartSeconds, Pages(p.WorkingSetMB)))],
            }),
            WorkloadKind.FileServer => new FileServerWorkload(new FileServerOptions { FileSetPages = Pages(spec.FileSetMB), Clients = spec.Clients }),
            WorkloadKind.Compute => new ComputeWorkload(new ComputeOptions { DataPages = Pages(spec.WorkingSetMB) }),
            WorkloadKind.Zeroing => new ZeroingWorkload(new ZeroingOptions { BufferPages = Pages(spec.WorkingSetMB) }),
            WorkloadKind.Network => new NetworkWorkload(new NetworkOptions { BufferPages = Pages(spec.WorkingSetMB) }),
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "Bug: a workload kind the simulator does not know."),
        };
    }

    private static int Pages(double megabytes) => (int)Math.Max(1, PageGeometry.PagesFromMegabytes(megabytes));
}
