/*
 * Which QEMU accelerator a guest runs under, and whether KVM can be used on this host.
 *
 * KVM needs /dev/kvm, openable for reading and writing. On this project's machines /dev/kvm is
 * either missing or backed by nested PVM (the kvm_pvm module): a Linux guest there crawls through
 * decompression and dies minutes later with a KVM internal error, leaving QEMU paused. So KVM is
 * used only when asked for and when the probe finds a plain KVM; otherwise the guest runs under TCG
 * and the reason is kept for the run's outputs.
 */
namespace Memvisor.Qemu.Launch;

/// <summary>QEMU's accelerators Memvisor uses.</summary>
public enum Accelerator
{
    /// <summary>TCG: QEMU's binary translator; works anywhere, 3-4 s to boot a small guest.</summary>
    Tcg,

    /// <summary>KVM: hardware virtualization through /dev/kvm.</summary>
    Kvm,
}

/// <summary>Whether KVM is usable here, and why not.</summary>
/// <param name="Usable">KVM can run a Linux guest.</param>
/// <param name="Reason">Why it cannot (or "KVM available").</param>
public sealed record KvmProbe(bool Usable, string Reason)
{
    /// <summary>Probes this host: /dev/kvm present and openable, and not nested PVM.</summary>
    public static KvmProbe Check(string devicePath = "/dev/kvm", string moduleFolder = "/sys/module")
    {
        if (!File.Exists(devicePath))
        {
            return new KvmProbe(false, $"{devicePath} is missing (no hardware virtualization exposed to this machine)");
        }

        if (Directory.Exists(Path.Combine(moduleFolder, "kvm_pvm")))
        {
            return new KvmProbe(false, $"{devicePath} is nested PVM (kvm_pvm): Linux guests die with a KVM internal error there");
        }

        try
        {
            using var device = File.Open(devicePath, FileMode.Open, FileAccess.ReadWrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new KvmProbe(false, $"{devicePath} cannot be opened for reading and writing ({e.Message})");
        }

        return new KvmProbe(true, "KVM available");
    }
}
