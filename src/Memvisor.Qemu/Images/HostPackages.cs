/*
 * The Debian packages a machine needs to run Memvisor's real guests, and the one install line that
 * names the missing ones. Every "missing" message in the QEMU substrate ends with this line.
 */
namespace Memvisor.Qemu.Images;

/// <summary>What a real-guest run needs on the host, by Debian package.</summary>
public enum HostPackage
{
    /// <summary>qemu-system-x86: qemu-system-x86_64.</summary>
    Qemu,

    /// <summary>linux-image-cloud-amd64: the guest kernel and its virtio modules.</summary>
    GuestKernel,

    /// <summary>busybox-static: the guest's shell and tools, statically linked.</summary>
    BusyboxStatic,

    /// <summary>gcc (with static glibc, libc6-dev): builds the guest agent.</summary>
    Gcc,

    /// <summary>cpio: not used by Memvisor itself (it writes the archive), but handy to inspect images.</summary>
    Cpio,
}

/// <summary>Package names and the install line.</summary>
public static class HostPackages
{
    /// <summary>The Debian package name of <paramref name="package"/>.</summary>
    public static string NameOf(HostPackage package) => package switch
    {
        HostPackage.Qemu => "qemu-system-x86",
        HostPackage.GuestKernel => "linux-image-cloud-amd64",
        HostPackage.BusyboxStatic => "busybox-static",
        HostPackage.Gcc => "gcc libc6-dev",
        HostPackage.Cpio => "cpio",
        _ => throw new ArgumentOutOfRangeException(nameof(package)),
    };

    /// <summary>The apt-get line that installs <paramref name="packages"/>.</summary>
    public static string InstallLine(IEnumerable<HostPackage> packages) =>
        "apt-get update && apt-get install -y --no-install-recommends " + string.Join(' ', packages.Distinct().Order().Select(NameOf));

    /// <summary>The apt-get line for everything real guests need.</summary>
    public static string FullInstallLine => InstallLine([HostPackage.Qemu, HostPackage.BusyboxStatic, HostPackage.GuestKernel, HostPackage.Cpio]);
}

/// <summary>Something the host lacks; the message names it and ends with the install line.</summary>
public sealed class MissingHostPackageException : Exception
{
    /// <summary>Creates the exception for <paramref name="package"/>.</summary>
    public MissingHostPackageException(HostPackage package, string problem)
        : base($"{problem}; install it with: {HostPackages.InstallLine([package])}")
    {
        Package = package;
    }

    /// <summary>Creates the exception (for analyzers).</summary>
    public MissingHostPackageException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public MissingHostPackageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public MissingHostPackageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The missing package.</summary>
    public HostPackage Package { get; }
}
