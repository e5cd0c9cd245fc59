namespace Memvisor.Core.Ports;

/// <summary>
/// Storage behind the host swap area: page-sized slots at byte offsets. The substrate owns it (the
/// simulator: a temporary file whose name is removed at once); tests use an in-memory device that fails
/// or corrupts on demand. Errors surface as
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
