/*
 * The guest's memory management: physical page allocator with free lists, clock replacement over
 * anonymous and page-cache pages, the guest's own swap, the page cache, and the checked access path.
 *
 * Page cache: a miss reads the page and, in the same I/O, up to ReadaheadPages - 1 following pages of
 * its file that are not cached, into free pages (readahead never evicts). Windows keeps a standby list:
 * clean file pages the clock takes from the cache keep their contents and their file block on a FIFO;
 * a later access takes one back without I/O (a soft fault), and allocation repurposes the oldest only
 * when the free and zeroed lists are empty (the zero-page thread never zeroes standby pages).
 */
using Memvisor.Core.IoRemap;
using Memvisor.Core.Memory;
using Memvisor.Simulation.Images;
using Memvisor.Simulation.Memory;

namespace Memvisor.Simulation.Guests;

public abstract partial class GuestOs
{
    private const byte FileFlag = 1;
    private const byte DirtyFlag = 2;
    private const byte InSwapFlag = 4;

    // Per guest physical page, in one struct so that an access touches one cache line of guest state.
    private readonly PhysicalPage[] _ppn;

    // Free lists: stale contents, and zeroed (Windows' zero-page thread fills it).
    private readonly int[] _free;
    private readonly int[] _zeroed;
    private int _freeCount;
    private int _zeroedCount;

    // Per logical page, but for the image's system files: logical page n is at n below them, at n - their size above.
    private LogicalPage[] _logical = [];
    private int _logicalCount;

    // The image's system files (_systemFiles), materialised from the front as the idle system reaches them:
    // their entries hold their initial contents until a page is first used, so they need not exist before.
    private LogicalPage[] _systemLogical = [];

    private readonly byte[] _dmaBuffer = new byte[PageGeometry.PageSizeBytes];
    private int _clockHand;
    private int _anonymousResident;
    private int _cacheResident;
    private int _balloonPages;
    private int _swapUsed;

    // Linux: the kernel image page every read of never-written anonymous memory maps (NoPage: none, Windows).
    private int _zeroPage = NoPage;

    // Windows' standby list: a FIFO of clean file pages, linked through these arrays (empty on Linux).
    private readonly bool _usesStandby;
    private readonly int[] _standbyNext = [];
    private readonly int[] _standbyPrev = [];
    private int _standbyHead = NoPage;
    private int _standbyTail = NoPage;
    private int _standbyCount;

    // Files (for readahead to stop at a file's end), and the image's system files the idle system reads.
    private readonly List<FileExtent> _files = [];
    private GuestSegment _systemFiles;
    private int _systemNext;
    private double _fileReadCredit;

    /// <summary>Free pages (both lists).</summary>
    public int FreePages => _freeCount + _zeroedCount;

    /// <summary>Free pages already zeroed (Windows).</summary>
    public int ZeroedFreePages => _zeroedCount;

    /// <summary>Kernel pages.</summary>
    public int KernelPages => IsBooted ? _bootPages : 0;

    /// <summary>Resident anonymous pages.</summary>
    public int AnonymousPages => _anonymousResident;

    /// <summary>Page-cache pages (Windows: the standby list included).</summary>
    public int PageCachePages => _cacheResident;

    /// <summary>Windows: clean file pages on the standby list (contents kept, repurposed when memory runs out).</summary>
    public int StandbyPages => _standbyCount;

    /// <summary>Pages held by the balloon driver.</summary>
    public int BalloonPages => _balloonPages;

    /// <summary>Guest swap slots in use.</summary>
    public int SwapUsedPages => _swapUsed;

    /// <summary>New anonymous memory of <paramref name="pages"/> pages (zero until written).</summary>
    public GuestSegment CreateAnonymous(int pages) => AddSegment(pages, file: false, _ => PageContent.Zero);

    /// <summary>New data files of <paramref name="pagesPerFile"/> blocks each (default: one file), <paramref name="pages"/> in all, holding contents unique to this guest.</summary>
    public GuestSegment CreateFile(int pages, int? pagesPerFile = null)
    {
        var salt = (ulong)_logicalCount;
        return AddFiles(pages, pagesPerFile, i => PageContent.Mix(_contentSalt, 0x4649_4C45_0000_0000UL + salt + (ulong)i));
    }

    /// <summary>
    /// Files installed with the image for a workload (<paramref name="fileKey"/> names them), of
    /// <paramref name="pagesPerFile"/> blocks each, <paramref name="pages"/> in all: identical in every VM
    /// of the image until a VM writes them.
    /// </summary>
    public GuestSegment OpenImageFiles(ulong fileKey, int pages, int pagesPerFile) => AddFiles(pages, pagesPerFile, i => Image.Token(fileKey, i));

    /// <summary>The first <paramref name="pages"/> blocks of the image's library file: code identical in every VM of the image.</summary>
    public GuestSegment OpenLibrary(int pages)
    {
        if (pages > Image.LibraryPages)
        {
            throw new ArgumentOutOfRangeException(nameof(pages), $"Image '{Image.Name}' has {Image.LibraryPages} library pages, not {pages}.");
        }

        return AddFiles(pages, null, i => Image.Token(GuestImage.File.Library, i));
    }

    /// <summary>The workload reads logical page <paramref name="page"/>: faults it in if needed and checks its bytes.</summary>
    public void Read(int page)
    {
        CheckLogical(page);
        Counters.Accesses++;
        var p = ResidentFrame(page);
        if (p >= 0)
        {
            if ((Logical(page).Flags & FileFlag) != 0)
            {
                Counters.PageCacheHits++;
            }

            ReadAndVerify(p, page);
            return;
        }

        p = FaultIn(page, forWrite: false);
        ReadAndVerify(p, page);
    }

    /// <summary>
    /// The workload writes <paramref name="token"/>'s contents over logical page <paramref name="page"/>:
    /// anonymous pages are faulted in first (a store does not tell the guest the whole page changes);
    /// file blocks are whole-block writes and need no read. A write reads nothing, so only the start of
    /// a resident page's old contents is checked (the store loads that cache line anyway).
    /// </summary>
    public void Write(int page, ulong token)
    {
        CheckLogical(page);
        if (token == PageContent.Unknown)
        {
            throw new ArgumentException("A workload cannot write unknown contents.", nameof(token));
        }

        Counters.Accesses++;
        var p = ResidentFrame(page);
        var file = (Logical(page).Flags & FileFlag) != 0;
        Span<byte> bytes;
        if (p >= 0 && p != _zeroPage)
        {
            // Known before the store's span is taken (taking it forgets what the page holds); true only while it hits the same machine page.
            var known = _memory.HoldsForCertain(new Ppn((uint)p), _ppn[p].Expected);
            bytes = WritePhysical(p);
            VerifyStart(bytes, p, page, known && _memory.LastFault == GuestFaultKind.None);
        }
        else
        {
            UnmapZeroPage(page);
            if (file)
            {
                p = AllocatePage(preferZeroed: false, out _);
                Assign(p, page, GuestPageUse.PageCache);
            }
            else
            {
                p = FaultIn(page, forWrite: true);
            }

            bytes = WritePhysical(p);
        }

        PageContent.Fill(bytes, token);
        _memory.RecordContents(new Ppn((uint)p), token);
        _ppn[p].Expected = token;
        Logical(page).Token = token;
        if (file)
        {
            Logical(page).Flags |= DirtyFlag;
        }
    }

    /// <summary>The guest's network card sends logical page <paramref name="page"/>: the device reads it by DMA, and what it read is checked against the guest's record.</summary>
    public void Transmit(int page)
    {
        CheckLogical(page);
        var p = ResidentFrame(page);
        if (p < 0)
        {
            p = FaultIn(page, forWrite: false);
        }

        Dma(p, IoDirection.Transmit);
        Verify(_dmaBuffer, p, page);
    }

    /// <summary>The guest's network card receives <paramref name="token"/>'s contents into logical page <paramref name="page"/> by DMA (a whole page: nothing is read first).</summary>
    public void Receive(int page, ulong token)
    {
        CheckLogical(page);
        if (token == PageContent.Unknown)
        {
            throw new ArgumentException("A device cannot write unknown contents.", nameof(token));
        }

        UnmapZeroPage(page);
        var p = ResidentFrame(page);
        if (p < 0)
        {
            p = FaultIn(page, forWrite: true);
        }

        PageContent.Fill(_dmaBuffer, token);
        Dma(p, IoDirection.Receive);
        _ppn[p].Expected = token;
        Logical(page).Token = token;
        if ((Logical(page).Flags & FileFlag) != 0)
        {
            Logical(page).Flags |= DirtyFlag;
        }
    }

    /// <summary>The workload touches logical page <paramref name="page"/>: writes new contents over it when <paramref name="write"/>, else reads it.</summary>
    public void Access(int page, bool write)
    {
        if (write)
        {
            Write(page, NewToken());
        }
        else
        {
            Read(page);
        }
    }

    /// <summary>The workload frees logical page <paramref name="page"/> (unmaps anonymous memory, truncates a file block): its contents become zero.</summary>
    public void Release(int page)
    {
        CheckLogical(page);
        UnmapZeroPage(page);
        var p = Logical(page).Frame;
        if (p >= 0)
        {
            if (_ppn[p].Standby != 0)
            {
                UnlinkStandby(p);
            }

            Unassign(p, page);
            FreePage(p);
        }

        if ((Logical(page).Flags & InSwapFlag) != 0)
        {
            _swapUsed--;
        }

        Logical(page).Flags &= FileFlag;
        Logical(page).Token = PageContent.Zero;
        Logical(page).Disk = PageContent.Zero;
    }

    /// <summary>Takes a page for the balloon (free pages first, else reclaiming the least valuable): its PPN, or -1 when the guest has none to give.</summary>
    internal int TakePageForBalloon()
    {
        if (FreePages == 0 && _standbyCount == 0 && Reclaim(Options.ReclaimBatchPages) == 0)
        {
            return NoPage;
        }

        var p = _freeCount > 0 ? _free[--_freeCount] : _zeroedCount > 0 ? _zeroed[--_zeroedCount] : RepurposeStandby();
        _ppn[p].Use = GuestPageUse.Balloon;
        _balloonPages++;
        return p;
    }

    /// <summary>The host accepted a balloon page: the guest can no longer know its contents.</summary>
    internal void ForgetContents(int p) => _ppn[p].Expected = PageContent.Unknown;

    /// <summary>A page leaves the balloon and goes back to the free list.</summary>
    internal void ReturnPageFromBalloon(int p)
    {
        _balloonPages--;
        FreePage(p);
    }

    /// <summary>Moves up to <paramref name="max"/> stale free pages to the zeroed list by writing zeros (Windows' zero-page thread).</summary>
    protected int ZeroFreePages(int max)
    {
        var done = 0;
        while (done < max && _freeCount > 0)
        {
            var p = _free[--_freeCount];
            ZeroPhysical(p);
            _ppn[p].Expected = PageContent.Zero;
            _zeroed[_zeroedCount++] = p;
            done++;
        }

        return done;
    }

    /// <summary>
    /// Brings a non-resident logical page into memory: guest swap-in, page-cache fill from disk, or a
    /// zero-fill fault. A Linux read of never-written anonymous memory maps the kernel's zero page
    /// instead of a frame (the write that follows, if any, faults again and gets a zeroed frame).
    /// </summary>
    private int FaultIn(int page, bool forWrite)
    {
        var flags = Logical(page).Flags;
        int p;
        if ((flags & FileFlag) != 0)
        {
            p = AllocatePage(preferZeroed: false, out _);
            Assign(p, page, GuestPageUse.PageCache);
            FillPhysical(p, Logical(page).Disk);
            _ppn[p].Expected = Logical(page).Disk;
            Counters.PageCacheMisses++;
            GuestStall(_latency.GuestDiskReadNanoseconds);
            ReadAhead(page);
        }
        else if ((flags & InSwapFlag) != 0)
        {
            p = AllocatePage(preferZeroed: false, out _);
            Assign(p, page, GuestPageUse.Anonymous);
            FillPhysical(p, Logical(page).Disk);
            _ppn[p].Expected = Logical(page).Disk;
            Logical(page).Flags &= unchecked((byte)~InSwapFlag);
            _swapUsed--;
            Counters.GuestSwapIns++;
            GuestStall(_latency.GuestDiskReadNanoseconds);
        }
        else if (!forWrite && _zeroPage != NoPage)
        {
            p = _zeroPage;
            Logical(page).Frame = p;
            Counters.ZeroPageMaps++;
            Counters.GuestPageFaults++;
            GuestStall(_latency.GuestMinorFaultNanoseconds);
        }
        else
        {
            p = AllocatePage(preferZeroed: true, out var isZero);
            Assign(p, page, GuestPageUse.Anonymous);
            if (!isZero)
            {
                ZeroPhysical(p);
                _ppn[p].Expected = PageContent.Zero;
            }

            Counters.GuestPageFaults++;
            GuestStall(_latency.GuestMinorFaultNanoseconds);
        }

        return p;
    }

    /// <summary>A logical page that maps the zero page stops mapping it (before a write or a release): it owns no frame.</summary>
    private void UnmapZeroPage(int page)
    {
        if (Logical(page).Frame == _zeroPage && _zeroPage != NoPage)
        {
            Logical(page).Frame = NoPage;
        }
    }

    private void Assign(int p, int page, GuestPageUse use)
    {
        _ppn[p].Use = use;
        _ppn[p].Owner = page;
        Logical(page).Frame = p;
        if (use == GuestPageUse.PageCache)
        {
            _cacheResident++;
        }
        else
        {
            _anonymousResident++;
        }
    }

    private void Unassign(int p, int page)
    {
        if (_ppn[p].Use == GuestPageUse.PageCache)
        {
            _cacheResident--;
        }
        else
        {
            _anonymousResident--;
        }

        _ppn[p].Owner = NoPage;
        Logical(page).Frame = NoPage;
    }

    /// <summary>A free page, reclaiming (and as a last resort deflating the balloon) when both free lists are empty.</summary>
    private int AllocatePage(bool preferZeroed, out bool isZero)
    {
        if (FreePages == 0 && _standbyCount == 0 && Reclaim(Options.ReclaimBatchPages) == 0 && (Balloon?.DeflateForGuest(Options.ReclaimBatchPages) ?? 0) == 0)
        {
            throw new InvalidOperationException(
                $"{Id}: guest out of memory: {KernelPages} kernel, {_anonymousResident} anonymous, {_balloonPages} balloon pages of {PageCount}; " +
                $"guest swap {_swapUsed} of {SwapPages} pages used. The workload needs more than memory plus swap.");
        }

        if (FreePages == 0)
        {
            isZero = false;
            return RepurposeStandby();
        }

        isZero = _zeroedCount > 0 && (preferZeroed || _freeCount == 0);
        return isZero ? _zeroed[--_zeroedCount] : _free[--_freeCount];
    }

    private void FreePage(int p)
    {
        _ppn[p].Use = GuestPageUse.Free;
        _ppn[p].Referenced = 0;
        _free[_freeCount++] = p;
    }

    /// <summary>Clock replacement: frees up to <paramref name="wanted"/> pages, skipping (and clearing) referenced ones. Returns the number freed.</summary>
    private int Reclaim(int wanted)
    {
        var freed = 0;
        var limit = 2 * PageCount;
        for (var scanned = 0; freed < wanted && scanned < limit; scanned++)
        {
            var swapFull = _swapUsed >= SwapPages;
            if (_cacheResident - _standbyCount == 0 && (swapFull || _anonymousResident == 0))
            {
                break;
            }

            var p = _clockHand;
            _clockHand = p + 1 == PageCount ? 0 : p + 1;
            var use = _ppn[p].Use;
            if (use is not (GuestPageUse.Anonymous or GuestPageUse.PageCache) || _ppn[p].Standby != 0)
            {
                continue;
            }

            if (_ppn[p].Referenced != 0)
            {
                _ppn[p].Referenced = 0;
                continue;
            }

            if (use == GuestPageUse.Anonymous && swapFull)
            {
                continue;
            }

            Evict(p);
            freed++;
        }

        return freed;
    }

    /// <summary>Evicts one page: a clean cache page is dropped; a dirty one written back; an anonymous one written to the guest's swap.</summary>
    private void Evict(int p)
    {
        var page = _ppn[p].Owner;
        var flags = Logical(page).Flags;
        var mustWrite = (flags & FileFlag) == 0 || (flags & DirtyFlag) != 0;
        if (mustWrite)
        {
            // The guest reads the page to write it out: if the host had swapped it, this is double paging.
            _evicting = true;
            try
            {
                ReadAndVerify(p, page);
            }
            finally
            {
                _evicting = false;
            }

            Logical(page).Disk = _ppn[p].Expected;
            GuestStall(_latency.GuestDiskWriteNanoseconds);
            if ((flags & FileFlag) != 0)
            {
                Counters.FileWriteBacks++;
                Logical(page).Flags &= unchecked((byte)~DirtyFlag);
            }
            else
            {
                Counters.GuestSwapOuts++;
                Logical(page).Flags |= InSwapFlag;
                _swapUsed++;
            }
        }

        if (_usesStandby && (flags & FileFlag) != 0)
        {
            // Windows: the clean page keeps its contents and its file block on the standby list.
            PushStandby(p);
            return;
        }

        Unassign(p, page);
        FreePage(p);
    }

    private void Dma(int p, IoDirection direction)
    {
        var path = _memory.DmaTransfer(new Ppn((uint)p), direction, _dmaBuffer);
        ChargeHostFault();
        _ppn[p].Referenced = 1;
        Counters.DmaTransfers++;
        if (path == DmaPath.Bounced)
        {
            Counters.DmaBounced++;
            Stall(_latency.BounceCopyNanoseconds, host: true);
        }
    }

    private ReadOnlySpan<byte> ReadPhysical(int p)
    {
        var page = _memory.PageForRead(new Ppn((uint)p));
        ChargeHostFault();
        Touched(p);
        return page;
    }

    private Span<byte> WritePhysical(int p)
    {
        var page = _memory.PageForWrite(new Ppn((uint)p));
        ChargeHostFault();
        Touched(p);
        return page;
    }

    /// <summary>The guest writes zeros over page <paramref name="p"/> (as WritePhysical(p).Clear(), with no work where the machine page reads as zeros already).</summary>
    private void ZeroPhysical(int p)
    {
        _memory.ZeroPage(new Ppn((uint)p));
        ChargeHostFault();
        Touched(p);
    }

    private void Touched(int p)
    {
        _ppn[p].Referenced = 1;
        LogTouch(p);
        if (_inBackground)
        {
            Counters.BackgroundAccesses++;
        }
    }

    /// <summary>The guest writes <paramref name="token"/>'s page over page <paramref name="p"/>; the machine page records that it holds it.</summary>
    private void FillPhysical(int p, ulong token)
    {
        PageContent.Fill(WritePhysical(p), token);
        _memory.RecordContents(new Ppn((uint)p), token);
    }

    /// <summary>
    /// The guest reads page <paramref name="p"/> (for logical page <paramref name="page"/>, or NoPage) and checks
    /// what it read against its record of the PPN, and that record against the logical page's. Every byte
    /// is compared unless the machine page holds the recorded contents for certain: the guest (or an
    /// earlier read's full comparison) put them there and no writable span of the page was handed out
    /// since, so nothing could have changed a byte (<see cref="NativeMachineMemory.KnownContents"/>). A full
    /// comparison that matches is recorded so.
    /// </summary>
    private void ReadAndVerify(int p, int page)
    {
        var bytes = ReadPhysical(p);
        var expected = _ppn[p].Expected;
        var ppn = new Ppn((uint)p);
        if (page != NoPage && expected != Logical(page).Token)
        {
            Mismatch(bytes, p, page);
        }
        else if (expected != PageContent.Unknown && !_memory.HoldsForCertain(ppn, expected))
        {
            if (PageContent.Matches(bytes, expected))
            {
                _memory.RecordContents(ppn, expected);
            }
            else
            {
                Mismatch(bytes, p, page);
            }
        }
    }

    /// <summary>Checks a page's bytes against the guest's record of the PPN, and that record against the logical page's.</summary>
    private void Verify(ReadOnlySpan<byte> bytes, int p, int page)
    {
        if (!PageContent.Matches(bytes, _ppn[p].Expected) || (page != NoPage && _ppn[p].Expected != Logical(page).Token))
        {
            Mismatch(bytes, p, page);
        }
    }

    /// <summary>
    /// As <see cref="Verify"/>, for the first cache line only (before the page is overwritten); not even
    /// that when the machine page held the recorded contents for certain (<paramref name="known"/>).
    /// </summary>
    private void VerifyStart(ReadOnlySpan<byte> bytes, int p, int page, bool known)
    {
        if ((!known && !PageContent.StartMatches(bytes, _ppn[p].Expected)) || (page != NoPage && _ppn[p].Expected != Logical(page).Token))
        {
            Mismatch(bytes, p, page);
        }
    }

    private void Mismatch(ReadOnlySpan<byte> bytes, int p, int page)
    {
        var expected = _ppn[p].Expected;
        Counters.DataMismatches++;
        FirstMismatch ??= $"{Id} PPN {p:x} ({_ppn[p].Use}, logical page {page}) at {_now} ns: " +
            (PageContent.StartMatches(bytes, expected) && PageContent.Matches(bytes, expected) && page != NoPage
                ? $"the guest's record {expected:x16} differs from the workload's {Logical(page).Token:x16}."
                : $"the bytes differ from the guest's record {expected:x16}.");
    }

    private void ChargeHostFault()
    {
        var kind = _memory.LastFault;
        if (kind == GuestFaultKind.None)
        {
            return;
        }

        var ns = kind switch
        {
            GuestFaultKind.Minor => _latency.MinorFaultNanoseconds,
            GuestFaultKind.ZeroFill => _latency.ZeroFillFaultNanoseconds,
            GuestFaultKind.CopyOnWrite => _latency.CopyOnWriteFaultNanoseconds,
            GuestFaultKind.HostSwapIn => Options.HostSwapDevice is { } device ? device.Submit(_now, 1) - _now : _latency.HostSwapInNanoseconds,
            _ => _latency.BalloonTouchFaultNanoseconds,
        };
        if (kind == GuestFaultKind.HostSwapIn && _evicting)
        {
            Counters.DoublePagingReads++;
        }

        Stall(ns, host: true);
    }

    private void GuestStall(long ns) => Stall(ns, host: false);

    /// <summary>Time the workload waits (for the host or for its guest); background work only counts it.</summary>
    private void Stall(long ns, bool host)
    {
        if (_inBackground)
        {
            Counters.BackgroundNanoseconds += ns;
        }
        else if (host)
        {
            _now += ns;
            Counters.HostStallNanoseconds += ns;
        }
        else
        {
            _now += ns;
            Counters.GuestStallNanoseconds += ns;
        }
    }

    private GuestSegment AddFiles(int pages, int? pagesPerFile, Func<int, ulong> initialContents)
    {
        if (pagesPerFile is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(pagesPerFile), $"Files of {pagesPerFile} pages; must be at least 1.");
        }

        var segment = AddSegment(pages, file: true, initialContents);
        _files.Add(new FileExtent(segment.First, pages, pagesPerFile ?? pages));
        return segment;
    }

    private GuestSegment AddSegment(int pages, bool file, Func<int, ulong> initialContents)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pages);
        var first = _logicalCount;
        var at = StorageIndex(first);
        var needed = at + pages;
        if (needed > _logical.Length)
        {
            Array.Resize(ref _logical, Math.Max(needed, _logical.Length * 2));
        }

        for (var i = 0; i < pages; i++)
        {
            var contents = initialContents(i);
            _logical[at + i].Frame = NoPage;
            _logical[at + i].Token = contents;
            _logical[at + i].Disk = contents;
            _logical[at + i].Flags = file ? FileFlag : (byte)0;
        }

        _logicalCount = first + pages;
        return new GuestSegment(first, pages);
    }

    /// <summary>
    /// The image's system files as one segment of files of <paramref name="pagesPerFile"/> blocks: its
    /// logical pages are numbered as any segment's, but their entries are made only when first reached (<see cref="Logical"/>).
    /// </summary>
    private GuestSegment AddSystemFiles(int pages, int pagesPerFile)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pages);
        if (_systemFiles.Pages != 0)
        {
            throw new InvalidOperationException($"{Id}: the image's system files are opened once.");
        }

        var segment = new GuestSegment(_logicalCount, pages);
        _logicalCount += pages;
        _files.Add(new FileExtent(segment.First, pages, pagesPerFile));
        return segment;
    }

    /// <summary>Where logical page <paramref name="page"/> (not a system-file page) is kept in _logical.</summary>
    private int StorageIndex(int page) => page < _systemFiles.First + _systemFiles.Pages ? page : page - _systemFiles.Pages;

    /// <summary>The entry of logical page <paramref name="page"/>.</summary>
    private ref LogicalPage Logical(int page)
    {
        var system = (uint)(page - _systemFiles.First);
        if (system < (uint)_systemFiles.Pages)
        {
            return ref SystemLogical((int)system);
        }

        return ref _logical[StorageIndex(page)];
    }

    /// <summary>The entry of block <paramref name="block"/> of the system files, made (with those before it) when first reached.</summary>
    private ref LogicalPage SystemLogical(int block)
    {
        if (block >= _systemLogical.Length)
        {
            var made = _systemLogical.Length;
            Array.Resize(ref _systemLogical, Math.Min(_systemFiles.Pages, Math.Max(block + 1, Math.Max(2 * made, 256))));
            for (var i = made; i < _systemLogical.Length; i++)
            {
                var contents = Image.Token(GuestImage.File.System, i);
                _systemLogical[i].Frame = NoPage;
                _systemLogical[i].Token = contents;
                _systemLogical[i].Disk = contents;
                _systemLogical[i].Flags = FileFlag;
            }
        }

        return ref _systemLogical[block];
    }

    private void CheckLogical(int page)
    {
        if ((uint)page >= (uint)_logicalCount)
        {
            throw new ArgumentOutOfRangeException(nameof(page), $"{Id}: logical page {page} is not in any segment (the guest has {_logicalCount}).");
        }
    }

    /// <summary>What the guest knows of one physical page.</summary>
    private struct PhysicalPage
    {
        /// <summary>The token of what the guest last wrote there (its record of the contents).</summary>
        public ulong Expected;

        /// <summary>Simulated time of the last touch by the guest's CPU.</summary>
        public long LastTouch;

        /// <summary>The logical page it holds, or NoPage.</summary>
        public int Owner;

        /// <summary>What it is used for.</summary>
        public GuestPageUse Use;

        /// <summary>The clock's referenced bit.</summary>
        public byte Referenced;

        /// <summary>Windows: 1 while the page is on the standby list.</summary>
        public byte Standby;
    }

    /// <summary>Files of <paramref name="PagesPerFile"/> pages each over the logical pages from <paramref name="First"/> (readahead stops at a file's end).</summary>
    private readonly record struct FileExtent(int First, int Pages, int PagesPerFile);

    /// <summary>One logical page: where it is, and what the workload and the virtual disk hold for it.</summary>
    private struct LogicalPage
    {
        /// <summary>The token the workload last wrote.</summary>
        public ulong Token;

        /// <summary>The token its virtual disk holds (file block, or guest swap slot when in swap).</summary>
        public ulong Disk;

        /// <summary>The PPN it is in, or NoPage.</summary>
        public int Frame;

        /// <summary>FileFlag, DirtyFlag, InSwapFlag.</summary>
        public byte Flags;
    }
}
