/*
 * Backing machine memory ahead of its use, on another core.
 *
 * The first write to a page of the simulator's machine memory makes the kernel back it (zero a 2 MiB
 * huge page; on a nested VM the hypervisor backs it too): 15-25% of a run that fills its host, on the
 * simulation's own thread, inside whatever guest write touched the page first. The pool hands out the
 * lowest free pages first, so the pages written first are (nearly) in MPN order, and what will be
 * written next lies just above the highest page written so far. This thread keeps the mapping backed
 * a little ahead of that (MADV_POPULATE_WRITE: the kernel faults the range in writable without writing
 * it), so the simulation's writes find their pages backed. It changes no byte (a populated page reads
 * as zeros, as an unbacked one does) and no result: only which thread pays the kernel. The memory it
 * backs ahead of use is at most AheadPages more than the run would have touched. Where the kernel
 * refuses (older than 5.14, or out of memory) it stops, and the simulation's own faults back the memory
 * as before.
 */
using Memvisor.Native;

namespace Memvisor.Simulation.Memory;

/// <summary>A thread that backs a mapping's pages just above the highest page in use.</summary>
internal sealed class BackingAhead : IDisposable
{
    /// <summary>Pages backed ahead of the highest page handed out (32 MiB).</summary>
    internal const int AheadPages = 8192;

    /// <summary>How far the highest page handed out moves before the thread hears of it (2 MiB): the caller checks one number per page.</summary>
    internal const int StepPages = 512;

    /// <summary>Pages backed per madvise call (one 2 MiB huge page: Dispose waits for at most one).</summary>
    private const int ChunkPages = 512;

    private readonly AnonymousMapping _mapping;
    private readonly long _firstPage;
    private readonly int _pageCount;
    private readonly AutoResetEvent _wake = new(initialState: false);
    private readonly Thread _thread;
    private volatile int _from;
    private volatile int _wanted;
    private volatile bool _stopping;

    /// <summary>A thread that will back pages of the <paramref name="pageCount"/> of <paramref name="mapping"/> from <paramref name="firstPage"/> as the pages handed out grow.</summary>
    public BackingAhead(AnonymousMapping mapping, long firstPage, int pageCount)
    {
        _mapping = mapping;
        _firstPage = firstPage;
        _pageCount = pageCount;
        _thread = new Thread(Run) { IsBackground = true, Name = "machine memory backing" };
        _thread.Start();
    }

    /// <summary>
    /// Page <paramref name="page"/>, the highest so far, was handed out (the caller says so once per StepPages of
    /// growth): the AheadPages above it are wanted backed. Pages below it are not: they are in use already,
    /// and what nobody has written (a VM's overhead memory) stays unbacked.
    /// </summary>
    public void HandedOut(int page)
    {
        _from = page;
        _wanted = (int)Math.Min(_pageCount, (long)page + AheadPages);
        _wake.Set();
    }

    /// <summary>Stops the thread (waiting for the call in progress); the mapping stays as it is.</summary>
    public void Dispose()
    {
        _stopping = true;
        _wake.Set();
        _thread.Join();
        _wake.Dispose();
    }

    private void Run()
    {
        var backed = 0;
        while (!_stopping && backed < _pageCount)
        {
            _wake.WaitOne();
            while (!_stopping && Math.Max(backed, _from) < _wanted)
            {
                backed = Math.Max(backed, _from);
                var end = Math.Min(_wanted, backed + ChunkPages);
                try
                {
                    _mapping.Advise(MemoryAdvice.PopulateWrite, _firstPage + backed, end - backed);
                }
                catch (ErrnoException)
                {
                    // The kernel cannot (before 5.14) or will not (out of memory): the simulation's own writes back the pages.
                    return;
                }

                backed = end;
            }
        }
    }
}
