namespace Memvisor.Core.Ports;

/// <summary>
/// Storage behind the host swap area: page-sized slots at byte offsets. <see cref="Swap.SwapFile"/>
/// is the real file both substrates use; tests substitute failing devices. Errors surface as
/// <see cref="IOException"/> (disk full, I/O error) and are handled by <see cref="Swap.SwapSpace"/>.
/// </summary>
public interface ISwapDevice : IDisposable
{
    /// <summary>A name for error messages (the file's path).</summary>
    string Name { get; }

    /// <summary>Writes whole pages at <paramref name="byteOffset"/>.</summary>
    void Write(long byteOffset, ReadOnlySpan<byte> pages);

    /// <summary>Reads whole pages at <paramref name="byteOffset"/>.</summary>
    void Read(long byteOffset, Span<byte> pages);
}
