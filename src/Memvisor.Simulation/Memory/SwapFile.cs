using Memvisor.Core.Ports;
using Microsoft.Win32.SafeHandles;

namespace Memvisor.Simulation.Memory;

/// <summary>
/// The host swap area as a real file, written and read at page offsets with positional I/O. The file
/// is created empty and grows as slots are written; it is deleted when the swap file is disposed.
/// </summary>
public sealed class SwapFile : ISwapDevice
{
    private readonly SafeFileHandle _handle;

    private SwapFile(string path, SafeFileHandle handle)
    {
        Name = path;
        _handle = handle;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Creates (or truncates) the swap file at <paramref name="path"/>.</summary>
    public static SwapFile Create(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, FileOptions.DeleteOnClose);
        return new SwapFile(path, handle);
    }

    /// <summary>
    /// Creates a swap file with a unique name in <paramref name="directory"/> (default: the temp folder)
    /// and removes its name at once: the open file lives until it is disposed or the process ends, however
    /// it ends (a killed run leaves nothing behind, which deleting on close cannot promise).
    /// </summary>
    public static SwapFile CreateTemporary(string? directory = null)
    {
        var dir = directory ?? Path.GetTempPath();
        var path = Path.Combine(dir, $"memvisor-{Environment.ProcessId}-{Guid.NewGuid():N}.swap");
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        try
        {
            File.Delete(path);
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        return new SwapFile(path + " (unlinked)", handle);
    }

    /// <summary>Opens an existing device or file without creating it (e.g. /dev/full to test a full disk).</summary>
    public static SwapFile OpenExisting(string path)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        return new SwapFile(path, handle);
    }

    /// <inheritdoc/>
    public void Write(long byteOffset, ReadOnlySpan<byte> pages) => RandomAccess.Write(_handle, pages, byteOffset);

    /// <inheritdoc/>
    public void Read(long byteOffset, Span<byte> pages)
    {
        var done = 0;
        while (done < pages.Length)
        {
            var n = RandomAccess.Read(_handle, pages[done..], byteOffset + done);
            if (n == 0)
            {
                throw new EndOfStreamException($"Swap file {Name} ends at byte {byteOffset + done}; a slot's page is missing.");
            }

            done += n;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _handle.Dispose();
}
