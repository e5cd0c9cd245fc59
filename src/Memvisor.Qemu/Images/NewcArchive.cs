/*
 * Writes a cpio archive in the "newc" format, the one the Linux kernel unpacks as an initramfs.
 *
 * Format (one record per entry, then a trailer):
 *   header  "070701" then 13 fields of 8 ASCII hex digits: ino, mode, uid, gid, nlink, mtime,
 *           filesize, devmajor, devminor, rdevmajor, rdevminor, namesize (with its NUL), check (0)
 *   name    the path without a leading "/", NUL-terminated, padded with NULs to a multiple of 4
 *           counting from the start of the header
 *   data    filesize bytes (a symlink's data is its target), padded to a multiple of 4
 * The archive ends with an entry named "TRAILER!!!". Times are 0 and inode numbers count up, so the
 * same entries always give the same bytes. Parent directories must come before their entries.
 */
using System.Globalization;
using System.Text;

namespace Memvisor.Qemu.Images;

/// <summary>A streaming writer of a newc cpio archive.</summary>
internal sealed class NewcArchive
{
    private const int RegularFile = 0x8000;
    private const int Directory = 0x4000;
    private const int Symlink = 0xA000;
    private const int CharacterDevice = 0x2000;

    private readonly Stream _output;
    private long _position;
    private int _nextInode = 1;

    public NewcArchive(Stream output)
    {
        _output = output;
    }

    /// <summary>Adds a directory (permissions e.g. 0755).</summary>
    public void AddDirectory(string path, int permissions = 0x1ED) => Write(path, Directory | permissions, [], nlink: 2);

    /// <summary>Adds a regular file with <paramref name="content"/>.</summary>
    public void AddFile(string path, ReadOnlySpan<byte> content, int permissions) => Write(path, RegularFile | permissions, content);

    /// <summary>Adds a symbolic link to <paramref name="target"/>.</summary>
    public void AddSymlink(string path, string target) => Write(path, Symlink | 0x1FF, Encoding.UTF8.GetBytes(target));

    /// <summary>Adds a character device node (e.g. /dev/console, 5:1) so the kernel has a console before devtmpfs.</summary>
    public void AddCharacterDevice(string path, int major, int minor, int permissions = 0x180) =>
        Write(path, CharacterDevice | permissions, [], rdevMajor: major, rdevMinor: minor);

    /// <summary>Writes the trailer; the archive is complete after this.</summary>
    public void Finish()
    {
        _nextInode = 0;
        Write("TRAILER!!!", 0, [], nlink: 1);
    }

    private void Write(string path, int mode, ReadOnlySpan<byte> data, int nlink = 1, int rdevMajor = 0, int rdevMinor = 0)
    {
        var name = Encoding.UTF8.GetBytes(path.TrimStart('/'));
        var header = new StringBuilder("070701", 110);
        foreach (var field in (ReadOnlySpan<long>)[_nextInode, mode, 0, 0, nlink, 0, data.Length, 0, 0, rdevMajor, rdevMinor, name.Length + 1, 0])
        {
            header.Append(field.ToString("X8", CultureInfo.InvariantCulture));
        }

        if (_nextInode != 0)
        {
            _nextInode++;
        }

        Emit(Encoding.ASCII.GetBytes(header.ToString()));
        Emit(name);
        Emit([0]);
        Pad();
        Emit(data);
        Pad();
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        _output.Write(bytes);
        _position += bytes.Length;
    }

    private void Pad()
    {
        var padding = (int)((4 - (_position % 4)) % 4);
        Span<byte> zeros = stackalloc byte[3];
        zeros.Clear();
        Emit(zeros[..padding]);
    }
}
