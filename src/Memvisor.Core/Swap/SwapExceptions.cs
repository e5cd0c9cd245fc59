using Memvisor.Core.Memory;

namespace Memvisor.Core.Swap;

/// <summary>Writing pages to the swap area failed (disk full, I/O error). The pages stayed resident.</summary>
public sealed class SwapWriteException : IOException
{
    /// <summary>Creates the exception.</summary>
    public SwapWriteException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}

/// <summary>
/// A swapped page could not be brought back: the read failed, or the slot's checksum did not match
/// (the data on disk is not what was written). The page stays swapped; nothing wrong reached the guest.
/// </summary>
public sealed class SwapReadException : IOException
{
    /// <summary>Creates the exception.</summary>
    public SwapReadException(string message, VmId vm, Ppn ppn, SwapSlot slot, bool checksumMismatch, Exception? inner = null)
        : base(message, inner)
    {
        Vm = vm;
        Ppn = ppn;
        Slot = slot;
        ChecksumMismatch = checksumMismatch;
    }

    /// <summary>The VM whose page could not be read.</summary>
    public VmId Vm { get; }

    /// <summary>The guest page.</summary>
    public Ppn Ppn { get; }

    /// <summary>The swap slot.</summary>
    public SwapSlot Slot { get; }

    /// <summary>True when the data was read but failed its checksum.</summary>
    public bool ChecksumMismatch { get; }
}
