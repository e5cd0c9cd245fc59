/*
 * The page cache's own behaviour beyond hits and misses: readahead (a miss reads the following pages of
 * its file in the same I/O), Windows' standby list (clean file pages taken from the cache keep their
 * contents until the memory is needed), and the idle system reading its installed files into free
 * memory over time (the same files in the same order in every VM of an image, so the cached pages are
 * identical across those VMs and the host can share them).
 */
using Memvisor.Simulation.Images;

namespace Memvisor.Simulation.Guests;

public abstract partial class GuestOs
{
    /// <summary>
    /// The frame a logical page is in (NoPage when none); a page on the standby list is taken back first (a
    /// soft fault: no I/O). Only Windows keeps one: elsewhere the PPN's entry is not loaded here, so that its
    /// cache miss overlaps the machine page's rather than coming before it.
    /// </summary>
    private int ResidentFrame(int page)
    {
        var p = Logical(page).Frame;
        if (_usesStandby && p >= 0 && _ppn[p].Standby != 0)
        {
            UnlinkStandby(p);
            Counters.StandbySoftFaults++;
            GuestStall(_latency.GuestMinorFaultNanoseconds);
        }

        return p;
    }

    /// <summary>Reads ahead after a miss on <paramref name="page"/>: the following pages of its file that are not cached, into free pages only, up to the readahead window.</summary>
    private void ReadAhead(int page)
    {
        var end = Math.Min(page + Options.ReadaheadPages, FileEnd(page));
        for (var q = page + 1; q < end && FreePages > 0; q++)
        {
            if (Logical(q).Frame >= 0)
            {
                continue;
            }

            var p = AllocatePage(preferZeroed: false, out _);
            Assign(p, q, GuestPageUse.PageCache);
            FillPhysical(p, Logical(q).Disk);
            _ppn[p].Expected = Logical(q).Disk;
            // Read but not yet used: the clock may take it first.
            _ppn[p].Referenced = 0;
            Counters.ReadaheadPages++;
            GuestStall(_latency.GuestDiskTransferNanoseconds);
        }
    }

    /// <summary>The logical page after the end of the file that holds <paramref name="page"/>.</summary>
    private int FileEnd(int page)
    {
        foreach (var file in _files)
        {
            if (page >= file.First && page < file.First + file.Pages)
            {
                var fileEnd = file.First + ((((page - file.First) / file.PagesPerFile) + 1) * file.PagesPerFile);
                return Math.Min(fileEnd, file.First + file.Pages);
            }
        }

        return page + 1;
    }

    /// <summary>Opens the image's installed files at boot (the idle system reads them over time).</summary>
    private void OpenSystemFiles()
    {
        if (Image.SystemPages > 0 && Options.BackgroundFileReadPagesPerSecond > 0)
        {
            _systemFiles = AddSystemFiles(Image.SystemPages, Options.ReadaheadPages);
        }
    }

    /// <summary>
    /// Background: the idle system reads its installed files in order, into free memory only: it stops
    /// while free memory is at or below a reserve (twice the reclaim batch or 1% of memory, as a kernel
    /// keeps free pages for allocations), so it never evicts and never takes the pages reclaim just freed
    /// for a workload. Its reads leave the clock's referenced bits as they were (pages read by a scan are
    /// used once, as Linux's use-once rule and Windows' standby list treat them): the cache they fill is the
    /// first thing the guest gives up when a workload or the balloon needs memory.
    /// </summary>
    private void ReadSystemFiles(double seconds)
    {
        if (_systemFiles.Pages == 0)
        {
            return;
        }

        _fileReadCredit += Options.BackgroundFileReadPagesPerSecond * seconds;
        while (_fileReadCredit >= 1)
        {
            var page = _systemFiles.First + _systemNext;
            var p = ResidentFrame(page);
            if (p < 0)
            {
                if (FreePages <= Math.Max(2 * Options.ReclaimBatchPages, PageCount / 100))
                {
                    // Memory is full: the credit does not accumulate while there is no idle memory to fill.
                    _fileReadCredit = 0;
                    return;
                }

                p = FaultIn(page, forWrite: false);
                _ppn[p].Referenced = 0;
            }

            var referenced = _ppn[p].Referenced;
            ReadAndVerify(p, page);
            _ppn[p].Referenced = referenced;
            _fileReadCredit--;
            _systemNext = _systemNext + 1 == _systemFiles.Pages ? 0 : _systemNext + 1;
        }
    }

    /// <summary>Windows: a clean file page joins the tail of the standby list (it stays assigned to its file block).</summary>
    private void PushStandby(int p)
    {
        _ppn[p].Standby = 1;
        _ppn[p].Referenced = 0;
        _standbyNext[p] = NoPage;
        _standbyPrev[p] = _standbyTail;
        if (_standbyTail == NoPage)
        {
            _standbyHead = p;
        }
        else
        {
            _standbyNext[_standbyTail] = p;
        }

        _standbyTail = p;
        _standbyCount++;
    }

    private void UnlinkStandby(int p)
    {
        var (prev, next) = (_standbyPrev[p], _standbyNext[p]);
        if (prev == NoPage)
        {
            _standbyHead = next;
        }
        else
        {
            _standbyNext[prev] = next;
        }

        if (next == NoPage)
        {
            _standbyTail = prev;
        }
        else
        {
            _standbyPrev[next] = prev;
        }

        _ppn[p].Standby = 0;
        _standbyCount--;
    }

    /// <summary>Windows: the oldest standby page leaves its file block and is used for something else (its contents are stale).</summary>
    private int RepurposeStandby()
    {
        var p = _standbyHead;
        if (p == NoPage)
        {
            throw new InvalidOperationException($"Bug: {Id} repurposed a standby page with an empty standby list.");
        }

        UnlinkStandby(p);
        Unassign(p, _ppn[p].Owner);
        Counters.StandbyRepurposed++;
        return p;
    }
}
