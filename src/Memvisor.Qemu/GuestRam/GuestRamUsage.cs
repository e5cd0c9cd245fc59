/*
 * The smaps figures of one mapping (a guest's RAM), in bytes. smaps lists mappings one after the
 * other: a header line like maps(5) ("start-end perms offset dev inode path") followed by
 * "Field:   N kB" lines and a "VmFlags:" line of two-letter flags ("mg": mergeable by KSM); the
 * mapping's block ends at the next header.
 */
using System.Globalization;

namespace Memvisor.Qemu.GuestRam;

/// <summary>Resident, referenced, swapped and merged memory of a guest's RAM.</summary>
/// <param name="RssBytes">Resident in host memory.</param>
/// <param name="ReferencedBytes">Accessed since the last clear_refs.</param>
/// <param name="SwapBytes">In host swap.</param>
/// <param name="KsmBytes">Merged by KSM (smaps "KSM:"; null on kernels without it).</param>
/// <param name="AnonHugePagesBytes">Backed by transparent huge pages.</param>
/// <param name="Mergeable">KSM may merge the mapping (VmFlags "mg": QEMU's mem-merge=on).</param>
public sealed record GuestRamUsage(long RssBytes, long ReferencedBytes, long SwapBytes, long? KsmBytes, long AnonHugePagesBytes, bool Mergeable)
{
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>Reads the block of the mapping [<paramref name="start"/>, <paramref name="end"/>) from smaps lines; null if absent.</summary>
    public static GuestRamUsage? ParseSmaps(IEnumerable<string> lines, ulong start, ulong end)
    {
        var header = $"{start:x}-{end:x} ";
        var inBlock = false;
        long rss = 0, referenced = 0, swap = 0, huge = 0;
        long? ksm = null;
        var mergeable = false;
        foreach (var line in lines)
        {
            if (!inBlock)
            {
                inBlock = line.StartsWith(header, StringComparison.Ordinal);
                continue;
            }

            if (line.StartsWith("VmFlags:", StringComparison.Ordinal))
            {
                mergeable = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("mg");
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !line.EndsWith(" kB", StringComparison.Ordinal))
            {
                if (IsHeader(line))
                {
                    break;
                }

                continue;
            }

            var field = line[..colon];
            if (!long.TryParse(line.AsSpan(colon + 1, line.Length - colon - 4).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var kib))
            {
                continue;
            }

            var bytes = kib * 1024;
            switch (field)
            {
                case "Rss": rss = bytes; break;
                case "Referenced": referenced = bytes; break;
                case "Swap": swap = bytes; break;
                case "KSM": ksm = bytes; break;
                case "AnonHugePages": huge = bytes; break;
                default: break;
            }
        }

        return inBlock ? new GuestRamUsage(rss, referenced, swap, ksm, huge, mergeable) : null;
    }

    private static bool IsHeader(string line)
    {
        var dash = line.IndexOf('-', StringComparison.Ordinal);
        return dash > 0 && line.AsSpan(0, dash).ContainsAnyExcept(HexDigits) is false;
    }
}
