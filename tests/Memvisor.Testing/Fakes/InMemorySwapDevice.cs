/*
 * Invariants of InMemorySwapDevice (it behaves as a sparse file read and written at byte offsets):
 *   1. Bytes written at an offset are read back unchanged from it, whatever the batching of the writes
 *      and reads; a gap left by writing beyond the end reads as zeros.
 *   2. A read that reaches past the last byte written fails with EndOfStreamException (an IOException).
 *   3. Injected faults look like a disk's: FailWrites and FailReads throw IOException and change
 *      nothing; CorruptReads flips one bit of every page read (the stored bytes stay intact).
 *   4. Once disposed, every call throws ObjectDisposedException.
 */
using Memvisor.Core.Memory;
using Memvisor.Core.Ports;

namespace Memvisor.Testing.Fakes;

/// <summary>A swap device in memory that can be told to fail its writes or reads, or to corrupt what it reads.</summary>
public sealed class InMemorySwapDevice(string name = "in-memory swap") : ISwapDevice
{
    private byte[] _bytes = [];
    private long _length;
    private bool _disposed;

    /// <inheritdoc/>
    public string Name => name;

    /// <summary>Writes fail with an <see cref="IOException"/> (a full or failing disk) and store nothing.</summary>
    public bool FailWrites { get; set; }

    /// <summary>Reads fail with an <see cref="IOException"/> (a failing disk).</summary>
    public bool FailReads { get; set; }

    /// <summary>Every page read comes back with one bit flipped (the stored bytes are not changed).</summary>
    public bool CorruptReads { get; set; }

    /// <summary>Calls of <see cref="Write"/> that stored their pages.</summary>
    public long WriteCalls { get; private set; }

    /// <summary>Calls of <see cref="Read"/> that returned pages.</summary>
    public long ReadCalls { get; private set; }

    /// <summary>Bytes from offset 0 to the end of the last write.</summary>
    public long LengthBytes => _length;

    /// <inheritdoc/>
    public void Write(long byteOffset, ReadOnlySpan<byte> pages)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(byteOffset);
        if (FailWrites)
        {
            throw new IOException($"{Name}: no space left on device (injected)");
        }

        var end = byteOffset + pages.Length;
        if (end > Array.MaxLength)
        {
            throw new IOException($"{Name}: {pages.Length} bytes at {byteOffset} would make the device larger than it can be (file too large)");
        }

        if (end > _bytes.Length)
        {
            Array.Resize(ref _bytes, (int)Math.Min(Array.MaxLength, Math.Max(end, 2L * _bytes.Length)));
        }

        pages.CopyTo(_bytes.AsSpan((int)byteOffset));
        _length = Math.Max(_length, end);
        WriteCalls++;
    }

    /// <inheritdoc/>
    public void Read(long byteOffset, Span<byte> pages)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(byteOffset);
        if (FailReads)
        {
            throw new IOException($"{Name}: input/output error (injected)");
        }

        if (byteOffset + pages.Length > _length)
        {
            throw new EndOfStreamException($"{Name} ends at byte {_length}; {pages.Length} bytes at {byteOffset} were never written.");
        }

        _bytes.AsSpan((int)byteOffset, pages.Length).CopyTo(pages);
        if (CorruptReads)
        {
            for (var page = 0; page < pages.Length; page += PageGeometry.PageSizeBytes)
            {
                pages[page + (Math.Min(PageGeometry.PageSizeBytes, pages.Length - page) / 2)] ^= 0x40;
            }
        }

        ReadCalls++;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _disposed = true;
        _bytes = [];
    }
}
