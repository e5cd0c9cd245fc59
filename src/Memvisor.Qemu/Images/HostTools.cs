/*
 * Finds what building and booting real guests needs on this host: qemu-system-x86_64 and gcc on
 * PATH, a static busybox, and a guest kernel whose virtio modules are installed uncompressed.
 * Each Find* returns null with a reason when the thing is missing, so `host doctor` can list all
 * problems at once; each Require* throws MissingHostPackageException naming the install line.
 */
namespace Memvisor.Qemu.Images;

/// <summary>A guest kernel and the modules an initramfs needs from it.</summary>
/// <param name="Version">The kernel release, e.g. "6.1.0-57-cloud-amd64".</param>
/// <param name="KernelPath">/boot/vmlinuz-VERSION.</param>
/// <param name="Modules">The virtio modules' paths, in load order.</param>
public sealed record GuestKernel(string Version, string KernelPath, IReadOnlyList<string> Modules);

/// <summary>Locates host programs and the guest kernel.</summary>
public static class HostTools
{
    /// <summary>The modules /init loads, in dependency order (ring, bus, PCI transport, devices).</summary>
    public static readonly IReadOnlyList<string> VirtioModules =
        ["virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci", "virtio_balloon", "virtio_console", "virtio_blk"];

    private static readonly string[] BusyboxPaths = ["/bin/busybox", "/usr/bin/busybox"];

    /// <summary>The full path of <paramref name="program"/> on PATH, or null.</summary>
    public static string? FindOnPath(string program)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        foreach (var folder in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>What this host lacks to build an image and boot guests (QEMU, the guest kernel, a static busybox, gcc); empty when nothing.</summary>
    public static IReadOnlyList<HostPackage> MissingGuestPackages()
    {
        var missing = new List<HostPackage>();
        if (FindOnPath("qemu-system-x86_64") is null)
        {
            missing.Add(HostPackage.Qemu);
        }

        if (FindGuestKernel() is null)
        {
            missing.Add(HostPackage.GuestKernel);
        }

        if (FindStaticBusybox() is null)
        {
            missing.Add(HostPackage.BusyboxStatic);
        }

        if (FindOnPath("gcc") is null)
        {
            missing.Add(HostPackage.Gcc);
        }

        return missing;
    }

    /// <summary>A statically linked busybox, or null.</summary>
    public static string? FindStaticBusybox() => BusyboxPaths.FirstOrDefault(p => File.Exists(p) && StaticElf.IsStaticExecutable(p));

    /// <summary>
    /// The guest kernel: the newest /boot/vmlinuz-* (a "cloud" flavour first: it is small and has
    /// the balloon and page reporting) whose virtio modules are installed as plain .ko files.
    /// </summary>
    public static GuestKernel? FindGuestKernel(string bootFolder = "/boot", string modulesFolder = "/lib/modules")
    {
        if (!Directory.Exists(bootFolder))
        {
            return null;
        }

        var candidates = Directory.GetFiles(bootFolder, "vmlinuz-*")
            .Select(path => (Path: path, Version: Path.GetFileName(path)["vmlinuz-".Length..]))
            .OrderByDescending(k => k.Version.Contains("cloud", StringComparison.Ordinal))
            .ThenByDescending(k => k.Version, StringComparer.Ordinal);
        foreach (var (path, version) in candidates)
        {
            var moduleRoot = Path.Combine(modulesFolder, version);
            if (!Directory.Exists(moduleRoot))
            {
                continue;
            }

            var found = Directory.EnumerateFiles(moduleRoot, "*.ko", SearchOption.AllDirectories)
                .GroupBy(Path.GetFileNameWithoutExtension)
                .ToDictionary(g => g.Key!, g => g.First(), StringComparer.Ordinal);
            if (VirtioModules.All(found.ContainsKey))
            {
                return new GuestKernel(version, path, [.. VirtioModules.Select(m => found[m])]);
            }
        }

        return null;
    }

    /// <summary>qemu-system-x86_64, or an exception naming the install line.</summary>
    public static string RequireQemu() =>
        FindOnPath("qemu-system-x86_64") ?? throw new MissingHostPackageException(HostPackage.Qemu, "qemu-system-x86_64 is not installed");

    /// <summary>gcc, or an exception naming the install line.</summary>
    public static string RequireGcc() =>
        FindOnPath("gcc") ?? throw new MissingHostPackageException(HostPackage.Gcc, "gcc is not installed (it builds the guest agent)");

    /// <summary>A static busybox, or an exception naming the install line.</summary>
    public static string RequireStaticBusybox() =>
        FindStaticBusybox() ?? throw new MissingHostPackageException(HostPackage.BusyboxStatic, "no statically linked busybox at /bin/busybox");

    /// <summary>The guest kernel, or an exception naming the install line.</summary>
    public static GuestKernel RequireGuestKernel() =>
        FindGuestKernel() ?? throw new MissingHostPackageException(
            HostPackage.GuestKernel, "no guest kernel: no /boot/vmlinuz-* with uncompressed virtio modules under /lib/modules");
}
