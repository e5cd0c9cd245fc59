/*
 * Content-based page sharing: the global hash table of frames (paper §4.1-§4.2).
 *
 * Problem. Pages with identical contents (zero pages, the same kernel and libraries in many VMs) can
 * be backed by one machine page, copy-on-write, if the host can find them. Comparing every pair is
 * hopeless; instead a 64-bit hash of a page's contents keys one table for the whole host.
 *
 * Data structures. Every entry is a frame of 16 bytes, held in one array and chained from a
 * power-of-two array of bucket heads (4 bytes each). Two kinds:
 *  - a shared frame describes a machine page that several guest pages map copy-on-write:
 *    hash bits 63..16 and a 16-bit reference count in Word, the MPN in Payload;
 *  - a hint frame describes a guest page that was scanned and matched nothing. The page is NOT made
 *    copy-on-write (that would add write faults to every scanned page); the frame only remembers where
 *    it is: hash bits 63..32 and 15..0, the VM id (16 bits) in Word, the PPN in Payload. When a later
 *    page matches a hint, the hinted page is hashed again: if it changed, the hint is stale.
 *  Link holds the kind (bits 31..30) and the next frame in the chain plus one (bits 29..0).
 *  Reference counts that do not fit 16 bits (the zero page, usually) live in a small overflow table.
 *
 * The bucket is chosen by the top bits of the hash, so a frame's bucket can always be recomputed from
 * what the frame keeps. A frame keeps 48 of the hash's 64 bits; a false match on those is harmless,
 * because pages are shared only after a full comparison of their contents (see ShareMatcher).
 *
 * Size: with one frame per machine page at most (every frame names a distinct machine page: a shared
 * page, or a hinted private page), the table costs 16 + 4 bytes per machine page: under 0.5% of
 * machine memory, as in the paper. That is its size when full (MetadataBytes); it is allocated as it
 * fills: the frame array doubles up to the capacity, and the bucket array doubles (one more hash bit)
 * whenever frames outnumber buckets, up to the size the capacity calls for. A doubling splits each
 * chain in two keeping its order, so a look-up finds the same frames in the same order at any size:
 * a host with a terabyte of machine memory and a few VMs pays for the frames it uses.
 */
using Memvisor.Core.Memory;

namespace Memvisor.Core.Sharing;

/// <summary>The kind of a frame in the <see cref="PageShareTable"/>.</summary>
public enum FrameKind : byte
{
    /// <summary>Unused.</summary>
    Free = 0,

    /// <summary>A scanned guest page that matched nothing (not copy-on-write).</summary>
    Hint = 1,

    /// <summary>A machine page mapped copy-on-write by one or more guest pages.</summary>
    Shared = 2,
}

/// <summary>The global hash table of hint and shared frames. Not thread-safe (Core is single-threaded).</summary>
public sealed class PageShareTable
{
    /// <summary>No frame.</summary>
    public const int NoFrame = -1;

    private const int KindShift = 30;
    private const uint NextMask = (1u << KindShift) - 1;
    private const ulong SharedHashMask = ~0xFFFFUL;
    private const ulong HintHashMask = 0xFFFF_FFFF_0000_FFFFUL;
    private const int RefCountOverflow = 0xFFFF;
    private const int MinBucketBits = 16;

    private const int MinFrames = 4096;

    private readonly int _capacity;
    private readonly int _maxBucketBits;
    private readonly Dictionary<int, int> _overflowRefCounts = [];
    private Frame[] _frames;
    private int[] _buckets;
    private int _bucketShift;

    // Removed frames, last removed first (NoFrame when none); after them come the frames from
    // _highWater up, never used yet. Frames are handed out in exactly that order.
    private int _freeHead = NoFrame;
    private int _highWater;
    private int _used;

    /// <summary>Creates a table with room for <paramref name="capacityFrames"/> frames.</summary>
    public PageShareTable(int capacityFrames)
    {
        if (capacityFrames <= 0 || capacityFrames > (int)NextMask - 1)
        {
            throw new ArgumentOutOfRangeException(nameof(capacityFrames), capacityFrames, $"A share table holds between 1 and {NextMask - 1} frames.");
        }

        _capacity = capacityFrames;
        _frames = new Frame[Math.Min(capacityFrames, MinFrames)];
        var bucketBits = Math.Max(MinBucketBits, 64 - (int)ulong.LeadingZeroCount((ulong)capacityFrames - 1));
        _maxBucketBits = Math.Min(bucketBits, 30);
        _buckets = new int[1 << MinBucketBits];
        _bucketShift = 64 - MinBucketBits;
        Array.Fill(_buckets, NoFrame);
    }

    /// <summary>Frames the table can hold.</summary>
    public int Capacity => _capacity;

    /// <summary>Frames in use (hint and shared).</summary>
    public int Count => _used;

    /// <summary>Hint frames in use.</summary>
    public int HintCount { get; private set; }

    /// <summary>Shared frames in use.</summary>
    public int SharedCount { get; private set; }

    /// <summary>
    /// Bytes this table occupies when full: frames and bucket heads at capacity, and the reference-count
    /// overflow table (the paper's figure per machine page; what is allocated grows to it as frames are used).
    /// </summary>
    public long MetadataBytes => (_capacity * 16L) + ((1L << _maxBucketBits) * 4L) + (_overflowRefCounts.Count * 24L);

    /// <summary>The kind of frame <paramref name="frame"/>.</summary>
    public FrameKind KindOf(int frame) => (FrameKind)(_frames[frame].Link >> KindShift);

    /// <summary>The first frame whose kept hash bits match <paramref name="key"/>, or <see cref="NoFrame"/>.</summary>
    public int FindFirst(ulong key) => Scan(_buckets[Bucket(key)], key);

    /// <summary>The next frame after <paramref name="frame"/> in the same chain matching <paramref name="key"/>.</summary>
    public int FindNext(int frame, ulong key) => Scan(NextOf(frame), key);

    /// <summary>Adds a hint frame for a scanned page that matched nothing.</summary>
    public int AddHint(ulong key, VmId vm, Ppn ppn)
    {
        var word = (key & HintHashMask) | ((ulong)vm.Value << 16);
        HintCount++;
        return Insert(key, word, ppn.Value, FrameKind.Hint);
    }

    /// <summary>Adds a shared frame for machine page <paramref name="mpn"/>, mapped by <paramref name="refCount"/> guest pages.</summary>
    public int AddShared(ulong key, Mpn mpn, int refCount)
    {
        SharedCount++;
        var frame = Insert(key, key & SharedHashMask, mpn.Value, FrameKind.Shared);
        SetRefCount(frame, refCount);
        return frame;
    }

    /// <summary>Removes a frame of either kind.</summary>
    public void Remove(int frame)
    {
        ref var f = ref _frames[frame];
        var kind = (FrameKind)(f.Link >> KindShift);
        if (kind == FrameKind.Free)
        {
            throw new InvalidOperationException($"Frame {frame} is not in use.");
        }

        var bucket = (int)(f.Word >> _bucketShift);
        var next = NextOf(frame);
        if (_buckets[bucket] == frame)
        {
            _buckets[bucket] = next;
        }
        else
        {
            var prev = _buckets[bucket];
            while (NextOf(prev) != frame)
            {
                prev = NextOf(prev);
            }

            SetNext(prev, next);
        }

        if (kind == FrameKind.Shared)
        {
            _overflowRefCounts.Remove(frame);
            SharedCount--;
        }
        else
        {
            HintCount--;
        }

        f = default;
        f.Link = (uint)(_freeHead + 1);
        _freeHead = frame;
        _used--;
    }

    /// <summary>True when hint frame <paramref name="frame"/> was made from a page whose hash was <paramref name="key"/> (on the kept bits).</summary>
    public bool HintKeyMatches(int frame, ulong key) => ((_frames[frame].Word ^ key) & HintHashMask) == 0;

    /// <summary>The VM of hint frame <paramref name="frame"/>.</summary>
    public VmId HintVm(int frame) => new((ushort)(_frames[frame].Word >> 16));

    /// <summary>The PPN of hint frame <paramref name="frame"/>.</summary>
    public Ppn HintPpn(int frame) => new(_frames[frame].Payload);

    /// <summary>The machine page of shared frame <paramref name="frame"/>.</summary>
    public Mpn SharedMpn(int frame) => new(_frames[frame].Payload);

    /// <summary>Moves shared frame <paramref name="frame"/> to another machine page (hot I/O remapping).</summary>
    public void SetSharedMpn(int frame, Mpn mpn) => _frames[frame].Payload = mpn.Value;

    /// <summary>Guest pages mapping shared frame <paramref name="frame"/>.</summary>
    public int RefCount(int frame)
    {
        var small = (int)(_frames[frame].Word & 0xFFFF);
        return small == RefCountOverflow ? _overflowRefCounts[frame] : small;
    }

    /// <summary>Sets the reference count of shared frame <paramref name="frame"/>.</summary>
    public void SetRefCount(int frame, int refCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(refCount);
        ref var f = ref _frames[frame];
        if (refCount >= RefCountOverflow)
        {
            _overflowRefCounts[frame] = refCount;
            f.Word |= RefCountOverflow;
        }
        else
        {
            _overflowRefCounts.Remove(frame);
            f.Word = (f.Word & SharedHashMask) | (uint)refCount;
        }
    }

    /// <summary>Frames whose reference count lives in the overflow table.</summary>
    public int OverflowCount => _overflowRefCounts.Count;

    /// <summary>Calls <paramref name="visit"/> for every frame in use (for checks and statistics, not hot paths).</summary>
    public void ForEach(Action<int, FrameKind> visit)
    {
        ArgumentNullException.ThrowIfNull(visit);
        for (var i = 0; i < _highWater; i++)
        {
            var kind = KindOf(i);
            if (kind != FrameKind.Free)
            {
                visit(i, kind);
            }
        }
    }

    private int Bucket(ulong key) => (int)(key >> _bucketShift);

    private int NextOf(int frame) => (int)(_frames[frame].Link & NextMask) - 1;

    private void SetNext(int frame, int next) =>
        _frames[frame].Link = (_frames[frame].Link & ~NextMask) | (uint)(next + 1);

    private int Scan(int frame, ulong key)
    {
        while (frame != NoFrame)
        {
            ref readonly var f = ref _frames[frame];
            var mask = (FrameKind)(f.Link >> KindShift) == FrameKind.Shared ? SharedHashMask : HintHashMask;
            if (((f.Word ^ key) & mask) == 0)
            {
                return frame;
            }

            frame = (int)(f.Link & NextMask) - 1;
        }

        return NoFrame;
    }

    private int Insert(ulong key, ulong word, uint payload, FrameKind kind)
    {
        if (_used == _capacity)
        {
            throw new InvalidOperationException($"The share table is full ({_capacity} frames).");
        }

        int frame;
        if (_freeHead != NoFrame)
        {
            frame = _freeHead;
            _freeHead = NextOf(frame);
        }
        else
        {
            frame = _highWater++;
            if (frame == _frames.Length)
            {
                Array.Resize(ref _frames, (int)Math.Min(_frames.Length * 2L, _capacity));
            }
        }

        if (_used >= _buckets.Length && _buckets.Length < (1 << _maxBucketBits))
        {
            DoubleBuckets();
        }

        var bucket = Bucket(key);
        ref var f = ref _frames[frame];
        f.Word = word;
        f.Payload = payload;
        f.Link = ((uint)kind << KindShift) | (uint)(_buckets[bucket] + 1);
        _buckets[bucket] = frame;
        _used++;
        return frame;
    }

    /// <summary>
    /// Doubles the bucket array (one more hash bit): chain b splits into chains 2b and 2b+1, each frame
    /// keeping its place relative to the others, so every look-up finds the same frames in the same order.
    /// </summary>
    private void DoubleBuckets()
    {
        var newShift = _bucketShift - 1;
        var buckets = new int[_buckets.Length * 2];
        for (var b = 0; b < _buckets.Length; b++)
        {
            int head0 = NoFrame, head1 = NoFrame, tail0 = NoFrame, tail1 = NoFrame;
            for (var frame = _buckets[b]; frame != NoFrame;)
            {
                var next = NextOf(frame);
                SetNext(frame, NoFrame);
                if (((_frames[frame].Word >> newShift) & 1) == 0)
                {
                    if (tail0 == NoFrame)
                    {
                        head0 = frame;
                    }
                    else
                    {
                        SetNext(tail0, frame);
                    }

                    tail0 = frame;
                }
                else
                {
                    if (tail1 == NoFrame)
                    {
                        head1 = frame;
                    }
                    else
                    {
                        SetNext(tail1, frame);
                    }

                    tail1 = frame;
                }

                frame = next;
            }

            buckets[2 * b] = head0;
            buckets[(2 * b) + 1] = head1;
        }

        _buckets = buckets;
        _bucketShift = newShift;
    }

    private struct Frame
    {
        public ulong Word;
        public uint Payload;
        public uint Link;
    }
}
