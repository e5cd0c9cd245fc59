/*
 * Which pages of a workload's anonymous memory it has written. A program writes its memory before it
 * reads it (it initialises what it allocates): its first access to a page is a write, whatever the
 * access would otherwise have been. On Linux a read of never-written memory would map the kernel's
 * zero page and take no memory, which is not what a working set of initialised data does.
 */
namespace Memvisor.Simulation.Workloads;

/// <summary>The pages of an anonymous segment a workload has written since it allocated (or last freed) them.</summary>
internal sealed class WrittenPages(int pages)
{
    private readonly bool[] _written = new bool[pages];

    /// <summary>Whether the access to page <paramref name="index"/> writes: <paramref name="write"/>, or true on the first access.</summary>
    public bool Access(int index, bool write)
    {
        var first = !_written[index];
        _written[index] = true;
        return write || first;
    }

    /// <summary>Page <paramref name="index"/> was freed: its next access is a first access again.</summary>
    public void Forget(int index) => _written[index] = false;
}
