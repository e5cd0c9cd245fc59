/*
 * Whether an executable is statically linked: an ELF file whose program headers hold no PT_INTERP
 * (the dynamic loader's path). Debian's busybox package installs a dynamic /bin/busybox; only
 * busybox-static's runs in an initramfs that has no libc.
 *
 * ELF64 little-endian layout used: magic 7F 'E' 'L' 'F' at 0, class (2 = 64-bit) at 4, e_phoff at
 * 32 (8 bytes), e_phentsize at 54 and e_phnum at 56 (2 bytes each); each program header starts with
 * p_type (4 bytes), PT_INTERP = 3.
 */
using System.Buffers.Binary;

namespace Memvisor.Qemu.Images;

/// <summary>Reads just enough of an ELF file to tell static from dynamic.</summary>
internal static class StaticElf
{
    private const uint ProgramInterpreter = 3;

    /// <summary>True when <paramref name="path"/> is a 64-bit ELF executable with no program interpreter.</summary>
    public static bool IsStaticExecutable(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            Span<byte> header = stackalloc byte[64];
            if (file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length
                || header[0] != 0x7F || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F' || header[4] != 2)
            {
                return false;
            }

            var programHeaderOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(header[32..]);
            var entrySize = BinaryPrimitives.ReadUInt16LittleEndian(header[54..]);
            var count = BinaryPrimitives.ReadUInt16LittleEndian(header[56..]);
            Span<byte> type = stackalloc byte[4];
            for (var i = 0; i < count; i++)
            {
                file.Position = programHeaderOffset + ((long)i * entrySize);
                if (file.ReadAtLeast(type, 4, throwOnEndOfStream: false) < 4)
                {
                    return false;
                }

                if (BinaryPrimitives.ReadUInt32LittleEndian(type) == ProgramInterpreter)
                {
                    return false;
                }
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
