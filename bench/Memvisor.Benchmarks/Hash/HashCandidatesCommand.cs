/*
 * `hash`: candidates for the sharing hash, measured on this CPU in one run (issue 15 item 3).
 *
 * Speed: each candidate hashes every page of the benchmark buffer (1 GiB of MixedPageContent by
 * default), median of 3 passes, against the plain read of the same buffer in the same run.
 * Collisions: each candidate hashes real page contents (the files of the installed .NET runtime and
 * /usr/lib, read as 4 KiB pages, a quarter of the buffer's size) plus the buffer; pages with equal hashes are
 * compared in full, and pairs that differ are counted, on all 64 bits and on the 48 the share table keeps.
 *
 * Candidates: XxHash3 (the hash now), XxHash128 (low 64 bits), a 64-bit hash from four CRC32C lanes
 * (SSE4.2 crc32 on 8-byte words), and an AES-round hash (AES-NI: four 128-bit lanes, one AESENC per
 * 16 bytes, lanes folded by AES rounds). The last two run only where the CPU has the instructions.
 */
using System.Diagnostics;
using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Memvisor.Benchmarks.Buffer;
using Memvisor.Core.Memory;
using Memvisor.Linux.Procfs;

namespace Memvisor.Benchmarks.Hash;

internal static class HashCandidatesCommand
{
    private const int PageSize = PageGeometry.PageSizeBytes;

    private static readonly (string Name, Func<ReadOnlySpan<byte>, ulong> Hash, bool Supported)[] Candidates =
    [
        ("XxHash3", p => XxHash3.HashToUInt64(p), true),
        ("XxHash128 (low 64)", p => (ulong)XxHash128.HashToUInt128(p), true),
        ("CRC32C x4 lanes", Crc32CLanes, Sse42.X64.IsSupported),
        ("AES rounds", AesRounds, Aes.IsSupported && Sse2.IsSupported),
    ];

    public static int Run(string[] args)
    {
        var megabytes = args.Length >= 2 && args[0] == "--megabytes" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1024;
        var realMegabytes = Math.Max(16, megabytes / 4);
        var c = CultureInfo.InvariantCulture;
        var loadAtStart = MachineLoad.LoadAverage();
        using var buffer = MixedContentMapping.Create(megabytes);
        var read = Median(() => GC.KeepAlive(ReadBandwidth.ReadAll(buffer.Mapping)));
        var real = RealPages(realMegabytes);
        Console.WriteLine(string.Create(c, $"machine: {HostDescription.Line()}; load {loadAtStart} -> {MachineLoad.LoadAverage()}"));
        Console.WriteLine(string.Create(c, $"buffer: {buffer.PageCount} pages of mixed content; real pages: {real.Length / PageSize} from the .NET runtime's and /usr/lib's files"));
        Console.WriteLine(string.Create(c, $"plain read: {buffer.PageCount / read:N0} pages/s"));
        Console.WriteLine("candidate            pages/s     x plain read  collisions (64 bits / 48 kept bits) among distinct pages");
        foreach (var (name, hash, supported) in Candidates)
        {
            if (!supported)
            {
                Console.WriteLine($"{name,-20} not supported on this CPU");
                continue;
            }

            var seconds = Median(() =>
            {
                var sum = 0UL;
                for (var page = 0L; page < buffer.Mapping.PageCount; page++)
                {
                    sum += hash(buffer.Mapping.Page(page));
                }

                GC.KeepAlive(sum);
            });
            var (distinct, full, kept) = Collisions(hash, real, buffer);
            Console.WriteLine(string.Create(c, $"{name,-20} {buffer.PageCount / seconds,11:N0}  {read / seconds,12:F2}  {full} / {kept} among {distinct:N0}"));
        }

        return 0;
    }

    private static double Median(Action pass)
    {
        var times = new double[3];
        for (var i = 0; i < times.Length; i++)
        {
            var clock = Stopwatch.StartNew();
            pass();
            times[i] = clock.Elapsed.TotalSeconds;
        }

        Array.Sort(times);
        return times[1];
    }

    /// <summary>Distinct page contents, and pairs of distinct contents whose hashes agree on 64 and on the kept 48 bits.</summary>
    private static (long Distinct, long Full, long Kept) Collisions(Func<ReadOnlySpan<byte>, ulong> hash, byte[] real, MixedContentMapping buffer)
    {
        var byHash = new Dictionary<ulong, List<byte[]>>();
        var byKept = new Dictionary<ulong, List<byte[]>>();
        long distinct = 0, full = 0, kept = 0;
        void Add(ReadOnlySpan<byte> page)
        {
            var h = hash(page);
            ref var list = ref CollectionsMarshal.GetValueRefOrAddDefault(byHash, h, out _);
            list ??= [];
            foreach (var other in list)
            {
                if (page.SequenceEqual(other))
                {
                    return; // the same content again: not a collision
                }
            }

            full += list.Count;
            distinct++;
            var copy = page.ToArray();
            list.Add(copy);
            ref var keptList = ref CollectionsMarshal.GetValueRefOrAddDefault(byKept, h & ~0xFFFFUL, out _);
            keptList ??= [];
            kept += keptList.Count;
            keptList.Add(copy);
        }

        for (var offset = 0; offset + PageSize <= real.Length; offset += PageSize)
        {
            Add(real.AsSpan(offset, PageSize));
        }

        for (var page = 0L; page < buffer.Mapping.PageCount; page++)
        {
            Add(buffer.Mapping.Page(page));
        }

        return (distinct, full, kept);
    }

    private static byte[] RealPages(int megabytes)
    {
        var limit = (long)megabytes << 20;
        using var all = new MemoryStream();
        foreach (var root in new[] { Path.GetDirectoryName(typeof(object).Assembly.Location)!, "/usr/lib" })
        {
            if (!Directory.Exists(root))
            {
                continue;
            }

            foreach (var file in Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }))
            {
                try
                {
                    var info = new FileInfo(file);
                    if (all.Length + info.Length > limit)
                    {
                        // Full enough: stop walking (all of /usr/lib takes minutes to walk on a busy machine).
                        return all.ToArray();
                    }

                    if (info.LinkTarget is not null)
                    {
                        continue;
                    }

                    var bytes = File.ReadAllBytes(file);
                    all.Write(bytes);
                    all.Write(new byte[(PageSize - (bytes.Length % PageSize)) % PageSize]);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Not readable: not part of the sample.
                }
            }
        }

        return all.ToArray();
    }

    private static ulong Crc32CLanes(ReadOnlySpan<byte> page)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(page);
        ulong c0 = 0x243F6A88, c1 = 0x85A308D3, c2 = 0x13198A2E, c3 = 0x03707344;
        for (var i = 0; i < words.Length; i += 4)
        {
            c0 = Sse42.X64.Crc32(c0, words[i]);
            c1 = Sse42.X64.Crc32(c1, words[i + 1]);
            c2 = Sse42.X64.Crc32(c2, words[i + 2]);
            c3 = Sse42.X64.Crc32(c3, words[i + 3]);
        }

        var mixed = ((c0 ^ (c2 << 13) ^ (c2 >> 19)) << 32) | (uint)(c1 ^ (c3 << 7) ^ (c3 >> 25));
        // A final avalanche (the 64-bit finaliser of MurmurHash3) spreads the lanes over all bits.
        mixed ^= mixed >> 33;
        mixed *= 0xFF51AFD7ED558CCDUL;
        mixed ^= mixed >> 33;
        mixed *= 0xC4CEB9FE1A85EC53UL;
        return mixed ^ (mixed >> 33);
    }

    private static ulong AesRounds(ReadOnlySpan<byte> page)
    {
        var blocks = MemoryMarshal.Cast<byte, Vector128<byte>>(page);
        var key = Vector128.Create(0x9E3779B97F4A7C15UL, 0xBF58476D1CE4E5B9UL).AsByte();
        var s0 = Vector128.Create(1UL, 2UL).AsByte();
        var s1 = Vector128.Create(3UL, 4UL).AsByte();
        var s2 = Vector128.Create(5UL, 6UL).AsByte();
        var s3 = Vector128.Create(7UL, 8UL).AsByte();
        for (var i = 0; i < blocks.Length; i += 4)
        {
            s0 = Aes.Encrypt(s0 ^ blocks[i], key);
            s1 = Aes.Encrypt(s1 ^ blocks[i + 1], key);
            s2 = Aes.Encrypt(s2 ^ blocks[i + 2], key);
            s3 = Aes.Encrypt(s3 ^ blocks[i + 3], key);
        }

        var folded = Aes.Encrypt(Aes.Encrypt(s0 ^ s1, key) ^ Aes.Encrypt(s2 ^ s3, key), key);
        folded = Aes.Encrypt(folded, key);
        return folded.AsUInt64().GetElement(0) ^ folded.AsUInt64().GetElement(1);
    }
}
