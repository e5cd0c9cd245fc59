/*
 * A built guest image: a kernel and an initramfs in one cache folder named by the hash of their
 * inputs, with a manifest. The folder appears whole or not at all (built under a temporary name,
 * then renamed), so a folder that exists is a complete image.
 */
namespace Memvisor.Qemu.Images;

/// <summary>A kernel + initramfs pair ready to boot.</summary>
/// <param name="Folder">The cache folder holding the image.</param>
/// <param name="KernelPath">The kernel (a copy of /boot/vmlinuz-VERSION).</param>
/// <param name="InitrdPath">The gzip-compressed newc initramfs.</param>
/// <param name="KernelVersion">The kernel release.</param>
/// <param name="InputHash">The hash of every input (hex); the folder's name starts with it.</param>
/// <param name="Reused">True when the image was already in the cache and nothing was built.</param>
public sealed record GuestImage(string Folder, string KernelPath, string InitrdPath, string KernelVersion, string InputHash, bool Reused)
{
    /// <summary>The kernel file's name inside an image folder.</summary>
    public const string KernelFileName = "vmlinuz";

    /// <summary>The initramfs file's name inside an image folder.</summary>
    public const string InitrdFileName = "initrd.gz";

    /// <summary>The manifest's name inside an image folder.</summary>
    public const string ManifestFileName = "manifest.txt";

    /// <summary>The default cache root: $XDG_CACHE_HOME/memvisor/images or ~/.cache/memvisor/images.</summary>
    public static string DefaultCacheRoot
    {
        get
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var root = string.IsNullOrEmpty(xdg)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
                : xdg;
            return Path.Combine(root, "memvisor", "images");
        }
    }
}
