/*
 * `memvisor host doctor`: what this machine can do for real guests, read-only (it changes nothing:
 * no KSM knob, no module, no swap).
 *
 * Checks: QEMU and its version; the guest kernel package; a static busybox; gcc with a static libc
 * (the guest agent); KVM usable or TCG and why; KSM present and its state; host swap (without it
 * VMs above target are only ballooned, never paged by the host); the cgroup memory controller (v1
 * or v2); the host's THP mode (QEMU is started with THP off regardless). The report ends with the
 * one apt-get line for what is missing.
 */
using System.Globalization;
using Memvisor.Linux.Ksm;
using Memvisor.Qemu.Images;
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Processes;

namespace Memvisor.Qemu.Doctor;

/// <summary>The host checks.</summary>
public static class HostDoctor
{
    private static readonly string[] CgroupV2ControllerFiles = ["/sys/fs/cgroup/cgroup.controllers", "/sys/fs/cgroup/unified/cgroup.controllers"];

    /// <summary>Runs every check.</summary>
    public static async Task<IReadOnlyList<HostCheck>> CheckAsync(CancellationToken cancellationToken = default) =>
    [
        await CheckQemuAsync(cancellationToken).ConfigureAwait(false),
        CheckGuestKernel(),
        CheckBusybox(),
        CheckGcc(),
        CheckAccelerator(),
        CheckKsm(),
        CheckSwap(),
        CheckCgroups(),
        CheckThp(),
    ];

    /// <summary>The apt-get line for the missing checks, or null when nothing is missing.</summary>
    public static string? InstallLine(IEnumerable<HostCheck> checks)
    {
        var missing = checks.Where(c => c.Status == CheckStatus.Missing && c.Package is not null).Select(c => c.Package!.Value).ToList();
        return missing.Count == 0 ? null : HostPackages.InstallLine(missing);
    }

    private static async Task<HostCheck> CheckQemuAsync(CancellationToken cancellationToken)
    {
        var qemu = HostTools.FindOnPath("qemu-system-x86_64");
        if (qemu is null)
        {
            return new HostCheck("QEMU", CheckStatus.Missing, "qemu-system-x86_64 is not on PATH", HostPackage.Qemu);
        }

        try
        {
            var version = await ProgramRunner.RunAsync(qemu, ["--version"], TimeSpan.FromSeconds(20), cancellationToken).ConfigureAwait(false);
            var line = version.StandardOutput.Split('\n').FirstOrDefault()?.Trim() ?? "";
            return version.ExitCode == 0
                ? new HostCheck("QEMU", CheckStatus.Ok, $"{qemu}: {line}")
                : new HostCheck("QEMU", CheckStatus.Missing, $"{qemu} --version failed: {version.FirstErrorLine}", HostPackage.Qemu);
        }
        catch (Exception e) when (e is TimeoutException or System.ComponentModel.Win32Exception)
        {
            return new HostCheck("QEMU", CheckStatus.Missing, $"{qemu} does not run: {e.Message}", HostPackage.Qemu);
        }
    }

    private static HostCheck CheckGuestKernel() => HostTools.FindGuestKernel() is { } kernel
        ? new HostCheck("guest kernel", CheckStatus.Ok, $"{kernel.KernelPath} with its {kernel.Modules.Count} virtio modules")
        : new HostCheck("guest kernel", CheckStatus.Missing, "no /boot/vmlinuz-* with uncompressed virtio modules under /lib/modules", HostPackage.GuestKernel);

    private static HostCheck CheckBusybox() => HostTools.FindStaticBusybox() is { } busybox
        ? new HostCheck("busybox", CheckStatus.Ok, $"{busybox} (static)")
        : new HostCheck("busybox", CheckStatus.Missing, HostTools.FindOnPath("busybox") is { } dynamic
            ? $"{dynamic} is dynamically linked: an initramfs needs busybox-static"
            : "no busybox", HostPackage.BusyboxStatic);

    private static HostCheck CheckGcc()
    {
        var gcc = HostTools.FindOnPath("gcc");
        if (gcc is null)
        {
            return new HostCheck("gcc", CheckStatus.Missing, "gcc is not on PATH (it builds the guest agent)", HostPackage.Gcc);
        }

        var staticLibc = Directory.Exists("/usr/lib")
            && Directory.EnumerateFiles("/usr/lib", "libc.a", SearchOption.AllDirectories).Any();
        return staticLibc
            ? new HostCheck("gcc", CheckStatus.Ok, $"{gcc}, static libc present")
            : new HostCheck("gcc", CheckStatus.Missing, $"{gcc} found but no static libc (libc.a)", HostPackage.Gcc);
    }

    private static HostCheck CheckAccelerator()
    {
        var kvm = KvmProbe.Check();
        return kvm.Usable
            ? new HostCheck("accelerator", CheckStatus.Ok, "KVM usable (ask for it per guest; TCG otherwise)")
            : new HostCheck("accelerator", CheckStatus.Limited, $"TCG only: {kvm.Reason}; a 256 MiB guest boots in ~3-4 s under TCG");
    }

    private static HostCheck CheckKsm()
    {
        const string folder = "/sys/kernel/mm/ksm";
        if (!File.Exists(Path.Combine(folder, KsmKnob.Run)))
        {
            return new HostCheck("KSM", CheckStatus.Limited, $"{folder} is missing: no page sharing between guests");
        }

        var sysfs = new KsmSysfs(folder);
        try
        {
            var run = sysfs.ReadNumber(KsmKnob.Run);
            var state = run switch { 0 => "stopped", 1 => "running", 2 => "unmerging", _ => $"run={run}" };
            if (KsmSysfs.WhyNotWritable(folder) is { } notWritable)
            {
                return new HostCheck("KSM", CheckStatus.Limited, $"present ({state}) but Memvisor cannot drive it: {notWritable}");
            }

            return new HostCheck(
                "KSM",
                CheckStatus.Ok,
                string.Create(CultureInfo.InvariantCulture, $"available ({state}, pages_to_scan {sysfs.ReadNumber(KsmKnob.PagesToScan)}, pages_sharing {sysfs.ReadNumber(KsmKnob.PagesSharing)}); Memvisor saves every knob before changing one and restores them"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return new HostCheck("KSM", CheckStatus.Limited, $"{folder} is not readable: {e.Message}");
        }
    }

    private static HostCheck CheckSwap()
    {
        try
        {
            var devices = File.ReadLines("/proc/swaps").Skip(1).Where(l => l.Trim().Length > 0).ToList();
            if (devices.Count == 0)
            {
                return new HostCheck("host swap", CheckStatus.Limited, "none: VMs above their target are ballooned, never paged by the host (Memvisor never creates swap unless asked)");
            }

            var totalKiB = devices.Sum(l => long.TryParse(l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(2), NumberStyles.None, CultureInfo.InvariantCulture, out var kib) ? kib : 0);
            return new HostCheck("host swap", CheckStatus.Ok, string.Create(CultureInfo.InvariantCulture, $"{devices.Count} device(s), {totalKiB / 1024} MiB: host paging of VMs (MADV_PAGEOUT) possible"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new HostCheck("host swap", CheckStatus.Limited, $"/proc/swaps is not readable: {e.Message}");
        }
    }

    private static HostCheck CheckCgroups()
    {
        var v1 = Directory.Exists("/sys/fs/cgroup/memory") && File.Exists("/sys/fs/cgroup/memory/memory.limit_in_bytes");
        var v2Controllers = CgroupV2ControllerFiles
            .Where(File.Exists)
            .Select(p => (Path: p, Controllers: File.ReadAllText(p).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
            .FirstOrDefault();
        var v2Memory = v2Controllers.Controllers?.Contains("memory") == true;
        var detail = (v1, v2Memory, v2Controllers.Path) switch
        {
            (true, true, _) => "memory controller in cgroup v1 (/sys/fs/cgroup/memory) and v2",
            (true, false, null) => "memory controller in cgroup v1 (/sys/fs/cgroup/memory); no cgroup v2",
            (true, false, _) => "memory controller in cgroup v1 (/sys/fs/cgroup/memory); cgroup v2 without it",
            (false, true, _) => "memory controller in cgroup v2",
            _ => null,
        };
        return detail is null
            ? new HostCheck("cgroups", CheckStatus.Limited, "no cgroup memory controller (not needed: ballooning and KSM work without)")
            : new HostCheck("cgroups", CheckStatus.Ok, detail);
    }

    private static HostCheck CheckThp()
    {
        const string path = "/sys/kernel/mm/transparent_hugepage/enabled";
        try
        {
            var mode = File.ReadAllText(path).Trim();
            return new HostCheck("THP", CheckStatus.Ok, $"host mode {mode}; QEMU is started with THP disabled for its memory (4 KiB working-set granularity)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new HostCheck("THP", CheckStatus.Ok, "no THP on this host: guest RAM is in 4 KiB pages anyway");
        }
    }
}
