namespace Memvisor.Core.Tests;

/// <summary>
/// Tests that measure what Core's hot paths allocate (GC.GetAllocatedBytesForCurrentThread around a
/// steady-state loop) run alone, after the parallel tests: other tests' allocations trigger
/// garbage collections, and a collection that lands inside a measured loop can shift the thread's count
/// (seen on a loaded machine: a loop that allocates nothing, measured as allocating).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationMeasurement
{
    /// <summary>The collection's name.</summary>
    public const string Name = "allocation measurements";
}
