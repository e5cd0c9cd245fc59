/*
 * What the memory-manager suites share: machine memory in one anonymous mapping (made by the suite's
 * global set-up) and a fresh ManagerHost per iteration, dropped after it (with its swap file).
 */
using BenchmarkDotNet.Attributes;
using Memvisor.Benchmarks.Engine;
using Memvisor.Testing;
using Memvisor.Native;

namespace Memvisor.Benchmarks.Suites;

/// <summary>Base of the suites that run Core's memory manager over an anonymous mapping.</summary>
public abstract class ManagerSuite : IDisposable
{
    private AnonymousMapping? _mapping;
    private ManagerHost? _host;

    /// <summary>The host of the current iteration.</summary>
    internal ManagerHost Host => _host ?? throw new InvalidOperationException("No iteration set-up ran.");

    /// <summary>Drops the manager of the iteration.</summary>
    [IterationCleanup]
    public void DropVm()
    {
        _host?.Dispose();
        _host = null;
    }

    /// <summary>Unmaps the machine memory.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Maps <paramref name="pages"/> pages of machine memory.</summary>
    protected void MapMachineMemory(int pages) => _mapping = AnonymousMapping.Create(pages);

    /// <summary>A fresh manager over the machine memory with one VM filled with <paramref name="content"/>.</summary>
    internal void Fresh(MixedPageContent content, ReleaseMode release, bool swappable = false)
    {
        DropVm();
        _host = ManagerHost.Create(_mapping ?? throw new InvalidOperationException("No machine memory mapped."), release, swappable);
        _host.FillGuest(content);
    }

    /// <summary>Drops the manager and unmaps the machine memory.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            DropVm();
            _mapping?.Dispose();
            _mapping = null;
        }
    }
}
