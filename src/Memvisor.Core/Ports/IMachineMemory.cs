using Memvisor.Core.Memory;

namespace Memvisor.Core.Ports;

/// <summary>
/// The host's machine memory, as a substrate provides it: a fixed number of 4 KiB pages addressed by
/// MPN, each readable and writable as bytes. Core's <see cref="MachinePagePool"/> decides which pages
/// are free; the substrate only holds the bytes and may choose where a page lives.
/// </summary>
public interface IMachineMemory
{
    /// <summary>Number of machine pages; valid MPNs are 0 .. PageCount-1.</summary>
    int PageCount { get; }

    /// <summary>The bytes of one machine page. Valid until the page is discarded.</summary>
    Span<byte> GetPage(Mpn mpn);

    /// <summary>
    /// Makes the page read as zeros and counts it as touched, as <see cref="GetPage"/> does (the pool zeroes
    /// every page it hands out). A substrate that knows the page still holds its initial zeros may skip the
    /// write, and so not back the page before it is really used.
    /// </summary>
    void Zero(Mpn mpn);

    /// <summary>
    /// Where the substrate would like the page for (<paramref name="vm"/>, <paramref name="ppn"/>) to
    /// live, or <see cref="Mpn.None"/> for no preference. The pool honours it when that page is free.
    /// </summary>
    Mpn PreferredPlacement(VmId vm, Ppn ppn);

    /// <summary>The page was freed; a substrate may give its backing back to the host (e.g. punch a hole).</summary>
    void Discard(Mpn mpn);

    /// <summary>Pages the substrate really holds in host memory right now (for checking accounting against reality).</summary>
    long ResidentPages { get; }
}
