namespace Memvisor.Core.Memory;

/// <summary>Sizes shared by every mechanism: Memvisor manages memory in 4 KiB pages, as ESX does.</summary>
public static class PageGeometry
{
    /// <summary>Bytes in one page.</summary>
    public const int PageSizeBytes = 4096;

    /// <summary>log2 of <see cref="PageSizeBytes"/>.</summary>
    public const int PageShift = 12;

    /// <summary>Pages in <paramref name="megabytes"/> MiB.</summary>
    public static long PagesFromMegabytes(double megabytes) => (long)Math.Round(megabytes * 1024 * 1024 / PageSizeBytes);

    /// <summary>MiB in <paramref name="pages"/> pages.</summary>
    public static double MegabytesFromPages(long pages) => pages * (double)PageSizeBytes / (1024 * 1024);
}

/// <summary>Machine page number: a page of real (host) memory.</summary>
public readonly record struct Mpn(uint Value)
{
    /// <summary>No machine page.</summary>
    public static readonly Mpn None = new(uint.MaxValue);

    /// <summary>True unless this is <see cref="None"/>.</summary>
    public bool IsValid => Value != uint.MaxValue;

    /// <inheritdoc/>
    public override string ToString() => IsValid ? $"MPN {Value:x}" : "MPN none";
}

/// <summary>Physical page number: a page of the zero-based memory a guest believes it has.</summary>
public readonly record struct Ppn(uint Value)
{
    /// <inheritdoc/>
    public override string ToString() => $"PPN {Value:x}";
}

/// <summary>Identifies a virtual machine on one host. At most 65,535 VMs (hint frames hold 16 bits).</summary>
public readonly record struct VmId(ushort Value)
{
    /// <inheritdoc/>
    public override string ToString() => $"VM {Value}";
}

/// <summary>A page-sized slot of the host swap file.</summary>
public readonly record struct SwapSlot(uint Value)
{
    /// <inheritdoc/>
    public override string ToString() => $"slot {Value}";
}

/// <summary>What a guest access wanted when it missed its mapping.</summary>
public enum PageAccess : byte
{
    /// <summary>A load.</summary>
    Read,

    /// <summary>A store.</summary>
    Write,
}
