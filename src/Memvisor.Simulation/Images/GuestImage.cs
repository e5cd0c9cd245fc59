/*
 * Guest images: what a VM boots from (paper §4: sharing arises between VMs running the same OS and
 * applications).
 *
 * An image is a name and a few sizes. Its contents are generated from tokens keyed by the image's name,
 * a file and a block number, so VMs booted from the same image hold identical kernel and library pages
 * (and the host finds them by content), while VMs of different images share only zero pages. Each image
 * has a kernel (loaded at boot, some of it zero: uninitialised data) and a library file (code that
 * workloads read through the guest's page cache) and the rest of its installed files (the system file,
 * which the idle system reads over time, so idle memory fills with cached pages identical across VMs of
 * the image); a workload's input files installed with the image are keyed by the image too. Kernel structures sized by memory (the page
 * descriptor array: why a 256 MB guest ballooned to 128 MB is a little slower than a 128 MB guest, the
 * paper's Figure 2) are per-VM data.
 */
namespace Memvisor.Simulation.Images;

/// <summary>An image guests boot from: deterministic contents for its kernel and library files.</summary>
public sealed record GuestImage
{
    /// <summary>The image's name: it keys all of the image's contents (same name, same pages).</summary>
    public required string Name { get; init; }

    /// <summary>Kernel pages loaded at boot (text, data, modules).</summary>
    public int KernelPages { get; init; } = 2048;

    /// <summary>Percentage of kernel pages that are zero (uninitialised data).</summary>
    public double KernelZeroPercent { get; init; } = 10;

    /// <summary>Pages of kernel structures per 100 pages of guest memory (page descriptors, tables): per-VM data allocated at boot.</summary>
    public double KernelReservedPercent { get; init; } = 1.5;

    /// <summary>Pages of the image's library file (shared code that workloads read through the page cache).</summary>
    public int LibraryPages { get; init; } = 16384;

    /// <summary>Pages of the image's other installed files (programs, configuration, logs) that the idle system reads over time.</summary>
    public int SystemPages { get; init; } = 65536;

    /// <summary>A Linux image (2.4-era sizes): an 8 MB kernel, 64 MB of libraries.</summary>
    public static GuestImage Linux(string name = "linux") => new() { Name = name, KernelPages = 2048, KernelZeroPercent = 10, KernelReservedPercent = 1.5, LibraryPages = 16384, SystemPages = 65536 };

    /// <summary>A Windows image (NT/2000-era sizes): a 16 MB kernel, 128 MB of system libraries.</summary>
    public static GuestImage Windows(string name = "windows") => new() { Name = name, KernelPages = 4096, KernelZeroPercent = 5, KernelReservedPercent = 1.0, LibraryPages = 32768, SystemPages = 131072 };

    /// <summary>The image's files.</summary>
    public enum File
    {
        /// <summary>The kernel, loaded at boot.</summary>
        Kernel = 1,

        /// <summary>Shared libraries and program code.</summary>
        Library = 2,

        /// <summary>The rest of the installed system (programs, configuration, logs), read by the idle system over time.</summary>
        System = 3,
    }

    /// <summary>The token of block <paramref name="block"/> of <paramref name="file"/>: the same for every VM booted from this image.</summary>
    public ulong Token(File file, int block)
    {
        var key = PageContent.Mix(NameKey(), ((ulong)file << 32) | (uint)block);
        if (file == File.Kernel && (key % 10_000) < KernelZeroPercent * 100)
        {
            return PageContent.Zero;
        }

        return key;
    }

    /// <summary>
    /// The token of block <paramref name="block"/> of a file installed with the image for a workload
    /// (<paramref name="fileKey"/> names it): the same in every VM of this image until a VM writes it.
    /// </summary>
    public ulong Token(ulong fileKey, int block) => PageContent.Mix(NameKey(), PageContent.Mix(fileKey, 0x494D_4746_0000_0000UL | (uint)block));

    /// <summary>Kernel structure pages for a guest of <paramref name="guestPages"/> pages.</summary>
    public int KernelReservedPages(int guestPages) => (int)Math.Ceiling(guestPages * KernelReservedPercent / 100);

    /// <summary>Throws <see cref="ArgumentException"/> naming the field and rule when the image is invalid.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("Image name: must not be empty.");
        }

        if (KernelPages < 1)
        {
            throw new ArgumentException($"Image '{Name}' kernel: {KernelPages} pages; must be at least 1.");
        }

        if (KernelZeroPercent is < 0 or > 100)
        {
            throw new ArgumentException($"Image '{Name}' kernel zero percent: {KernelZeroPercent}; must be between 0 and 100.");
        }

        if (KernelReservedPercent is < 0 or > 50)
        {
            throw new ArgumentException($"Image '{Name}' kernel reserved percent: {KernelReservedPercent}; must be between 0 and 50.");
        }

        if (LibraryPages < 0)
        {
            throw new ArgumentException($"Image '{Name}' library: {LibraryPages} pages; must not be negative.");
        }

        if (SystemPages < 0)
        {
            throw new ArgumentException($"Image '{Name}' system files: {SystemPages} pages; must not be negative.");
        }
    }

    /// <summary>Pages of a guest of <paramref name="guestPages"/> that the kernel takes at boot.</summary>
    public int BootPages(int guestPages) => KernelPages + KernelReservedPages(guestPages);

    /// <summary>A 64-bit key of the name (FNV-1a over its UTF-16 code units: stable across runs and platforms, unlike string.GetHashCode).</summary>
    private ulong NameKey()
    {
        var h = 0xCBF29CE484222325UL;
        foreach (var c in Name)
        {
            h = (h ^ c) * 0x100000001B3UL;
        }

        return h;
    }
}
