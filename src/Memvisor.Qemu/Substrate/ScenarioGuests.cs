/*
 * A scenario (the format `memvisor simulate` runs) as real guests under QEMU: what `memvisor host run
 * SCENARIO` boots.
 *
 *   host.memoryMB        the budget: memory Memvisor may give guests here, QEMU's own included; it
 *                        must fit in what the machine has available now
 *   host.swapMB          backing for admission (max - min of every VM must fit), as in the simulator
 *   host.sharing         KSM driven by the policy (scan rate from shareScanHostPagesPerSecond; every
 *                        knob saved and restored); off: KSM is left as it is
 *   other host fields    the policy's options, read as the simulator reads them (ScenarioPolicy)
 *   vm.memoryMB          the guest's memory (-m), a whole number of MiB, 64..65536
 *   vm.minMB, shares     the policy's min and shares; overheadMB when given, else QEMU's own memory
 *                        under TCG (QemuOverheadMiB), charged in admission and free memory
 *   balloon floor        the most the balloon may take: max(64 MiB, min, memory x (1 - balloonMaxPercent),
 *                        memory - balloonMaxMB)
 *   guest swap           a swap disk of max - min (the memory the policy may take back), so that the
 *                        balloon can take memory the guest holds
 *   workload             the guest agent: toucher -> mode=toucher with the scenario's phases (uniform);
 *                        idle -> fills workingSetMB once and touches none of it; zeroing -> a toucher
 *                        that writes zero pages; fileServer -> mode=file over fileSetMB in the guest's
 *                        tmpfs (page cache); compute -> a toucher of its working set
 *   image                guests of the same image fill their memory with the same seeded content
 *                        (identical pages KSM can merge), as a simulated image's pages are identical
 * What a real guest cannot do as written (Windows guests, Zipf access, network workloads, balloon
 * drivers other than active, pinned balloon targets, power-on and power-off times, salting, simulated
 * latencies) is listed by Unhonoured, for the one line said before anything runs; the rest runs.
 */
using System.Globalization;
using Memvisor.Core.Memory;
using Memvisor.Qemu.Images;
using Memvisor.Qemu.Launch;
using Memvisor.Scenarios;

namespace Memvisor.Qemu.Substrate;

/// <summary>A scenario's VMs as QEMU guests.</summary>
/// <param name="Scenario">The scenario.</param>
/// <param name="Options">The run's settings (budget, swap capacity, policy, tick, duration, KSM).</param>
/// <param name="Guests">One guest per VM, in scenario order.</param>
/// <param name="Unhonoured">What real guests cannot do as the scenario says, one phrase each.</param>
public sealed record ScenarioGuests(Scenario Scenario, QemuRunOptions Options, IReadOnlyList<QemuRunGuest> Guests, IReadOnlyList<string> Unhonoured)
{
    /// <summary>QEMU's own resident memory per guest under TCG (tb-size 32): 89-90 MiB measured, charged as 96.</summary>
    public const int QemuOverheadMiB = 96;

    /// <summary>The smallest memory a balloon may leave a Linux guest (below it the guest OOMs its own workload).</summary>
    public const int BalloonFloorMiB = 64;

    private const int PagesPerMiB = 256;

    /// <summary>
    /// The guests of <paramref name="scenario"/> booting <paramref name="image"/>, with the budget
    /// checked against <paramref name="availableMiB"/> (what the machine has available now; null: not checked).
    /// </summary>
    /// <exception cref="ScenarioException">Something real guests cannot run at all (every problem, one line each).</exception>
    public static ScenarioGuests Of(Scenario scenario, GuestImage image, double? availableMiB)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(image);
        var errors = new List<string>();
        var host = scenario.Host;
        if (availableMiB is { } available && host.MemoryMB > available)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"host.memoryMB: {host.MemoryMB} MiB is more than this machine has available ({available:0} MiB)"));
        }

        if (scenario.DurationSeconds < scenario.SampleIntervalSeconds)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"durationSeconds: {scenario.DurationSeconds} s is shorter than sampleIntervalSeconds ({scenario.SampleIntervalSeconds} s): the run would take no sample"));
        }

        var guests = new List<QemuRunGuest>();
        for (var i = 0; i < scenario.Vms.Count; i++)
        {
            var spec = scenario.Vms[i];
            if (spec.MemoryMB != Math.Floor(spec.MemoryMB) || spec.MemoryMB is < 64 or > 65536)
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"vms[{i}] ('{spec.Name}').memoryMB: {spec.MemoryMB}; a real guest needs a whole number of MiB from 64 to 65536"));
                continue;
            }

            var guest = Guest(spec, image, host.BalloonMaxPercent);
            if (guest.Options.Validate() is { } problem)
            {
                errors.Add($"vms[{i}] ('{spec.Name}'): {problem}");
                continue;
            }

            try
            {
                guest.Config.Validate();
            }
            catch (ArgumentException e)
            {
                errors.Add($"vms[{i}] ('{spec.Name}'): {e.Message}");
                continue;
            }

            guests.Add(guest);
        }

        var options = new QemuRunOptions
        {
            BudgetPages = (long)Math.Floor(host.MemoryMB * PagesPerMiB),
            SwapCapacityPages = (long)Math.Floor(host.SwapMB * PagesPerMiB),
            Policy = ScenarioPolicy.Options(host),
            Tick = TimeSpan.FromSeconds(Math.Min(1, scenario.SampleIntervalSeconds)),
            Duration = TimeSpan.FromSeconds(scenario.DurationSeconds),
            DriveKsm = host.Sharing,
        };
        if (options.Validate() is { } settings)
        {
            errors.Add($"host: {settings}");
        }

        if (errors.Count > 0)
        {
            throw new ScenarioException($"scenario '{scenario.Name}' on real guests", errors);
        }

        return new ScenarioGuests(scenario, options, guests, UnhonouredFeatures(scenario));
    }

    /// <summary>The machine's available memory now (/proc/meminfo MemAvailable), MiB; null when unreadable.</summary>
    public static double? MachineAvailableMiB(string meminfoPath = "/proc/meminfo")
    {
        try
        {
            var line = File.ReadLines(meminfoPath).FirstOrDefault(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
            var parts = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts is { Length: >= 2 } && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var kib) ? kib / 1024.0 : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>What real guests cannot do as <paramref name="scenario"/> says, one phrase each (empty: everything).</summary>
    public static IReadOnlyList<string> UnhonouredFeatures(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var said = new List<string>();
        void Say(IEnumerable<VmSpec> vms, string what)
        {
            var names = vms.Select(v => v.Name).ToList();
            if (names.Count > 0)
            {
                said.Add($"{what} ({string.Join(", ", names)})");
            }
        }

        var vms = scenario.Vms;
        Say(vms.Where(v => v.Guest != GuestFlavour.Linux), "Windows guests: they run Linux");
        Say(vms.Where(v => v.Workload.Kind == WorkloadKind.Network), "network workloads: they run idle");
        Say(vms.Where(v => v.Workload.Kind == WorkloadKind.Compute), "compute workloads: they touch their working set");
        Say(vms.Where(v => v.Workload.Kind is WorkloadKind.Toucher or WorkloadKind.Compute && v.Workload.Distribution == AccessPattern.Zipf), "Zipf access: uniform");
        Say(vms.Where(v => v.Workload.Kind == WorkloadKind.FileServer), "file-server clients: one reader over the file set");
        Say(vms.Where(v => v.BalloonDriver != BalloonDriverSpec.Active), "balloon drivers other than active: virtio-balloon works");
        Say(vms.Where(v => v.BalloonTargetMB is not null), "pinned balloon targets: the policy sets them");
        Say(vms.Where(v => v.PowerOnSeconds > 0 || v.PowerOffSeconds is not null), "power-on and power-off times: every guest boots at the start and runs to the end");
        Say(vms.Where(v => v.ShareSalt is not null), "share salts: KSM has none");
        if (scenario.Host.Salting != ShareSaltMode.SingleSalt)
        {
            said.Add("salting: KSM merges across all VMs");
        }

        if (scenario.Latencies != new LatencySpec())
        {
            said.Add("simulated latencies: real guests have real costs");
        }

        return said;
    }

    /// <summary>The QEMU guest of one VM, whose balloon may take at most <paramref name="balloonMaxPercent"/> of its memory.</summary>
    public static QemuRunGuest Guest(VmSpec spec, GuestImage image, double balloonMaxPercent)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var memoryMiB = (int)spec.MemoryMB;
        var minMiB = (int)Math.Ceiling(spec.MinMB);
        var floor = Math.Max(BalloonFloorMiB, minMiB);
        floor = Math.Max(floor, (int)Math.Ceiling(memoryMiB * (1 - (balloonMaxPercent / 100))));
        if (spec.BalloonMaxMB is { } cap)
        {
            floor = Math.Max(floor, memoryMiB - (int)Math.Floor(cap));
        }

        return new QemuRunGuest(
            new QemuGuestOptions
            {
                Name = spec.Name,
                MemoryMiB = memoryMiB,
                Image = image,
                GuestSwapMiB = Math.Max(0, memoryMiB - minMiB),
                Agent = AgentSettings(spec),
            },
            ScenarioPolicy.Config(spec, QemuOverheadMiB * PagesPerMiB),
            Math.Min(memoryMiB, floor));
    }

    /// <summary>The agent's settings for <paramref name="spec"/>'s workload.</summary>
    public static IReadOnlyDictionary<string, string> AgentSettings(VmSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var w = spec.Workload;
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["fill"] = "seeded",
            ["seed"] = Seed(spec.Image),
        };
        switch (w.Kind)
        {
            case WorkloadKind.Toucher:
            case WorkloadKind.Compute:
            case WorkloadKind.Zeroing:
                settings["mode"] = "toucher";
                settings["phases"] = Phases(w);
                settings["alloc_mib"] = Mib(w.Phases.Select(p => p.WorkingSetMB).Prepend(w.WorkingSetMB).Max());
                if (w.Kind == WorkloadKind.Zeroing)
                {
                    settings["fill"] = "zero";
                    settings["touch"] = "write";
                    settings.Remove("seed");
                }

                break;
            case WorkloadKind.FileServer:
                settings["mode"] = "file";
                settings["file_mib"] = Mib(w.FileSetMB);
                break;
            default:
                settings["mode"] = "idle";
                settings["alloc_mib"] = Mib(w.Kind == WorkloadKind.Idle ? w.WorkingSetMB : 0);
                break;
        }

        return settings;
    }

    /// <summary>The scenario's phases (a working set from a start time) as the agent's SET:SECONDS list.</summary>
    private static string Phases(WorkloadSpec w)
    {
        var parts = new List<string>();
        var set = w.WorkingSetMB;
        var since = 0.0;
        foreach (var phase in w.Phases.OrderBy(p => p.StartSeconds))
        {
            if (phase.StartSeconds > since)
            {
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{Mib(set)}:{phase.StartSeconds - since:0.###}"));
            }

            set = phase.WorkingSetMB;
            since = Math.Max(since, phase.StartSeconds);
        }

        parts.Add($"{Mib(set)}:0");
        return string.Join(',', parts);
    }

    private static string Mib(double mb) => ((long)Math.Ceiling(Math.Max(0, mb))).ToString(CultureInfo.InvariantCulture);

    /// <summary>A stable seed per image name (FNV-1a of its UTF-8 bytes, 31 bits).</summary>
    private static string Seed(string image)
    {
        var hash = 2166136261u;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(image))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return ((hash & 0x7FFFFFFF) | 1).ToString(CultureInfo.InvariantCulture);
    }
}
