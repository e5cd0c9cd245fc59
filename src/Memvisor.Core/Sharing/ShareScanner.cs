/*
 * The page-sharing scanner's pacing (paper §4.2): pages are considered for sharing at random, at a
 * capped rate per VM and for the whole host, so the CPU spent on sharing stays negligible.
 *
 * Each VM earns scan credit at PerVmPagesPerSecond and the host at HostPagesPerSecond (ESX 2.x: 50 and
 * 200). Advance(elapsed) spends credit round-robin over the VMs, one random page per credit. Credit
 * is capped at one second's worth so that a long pause does not turn into a burst. A credit draws a
 * few random pages until it finds a private one (untouched, swapped or already shared pages are not
 * candidates), so a sparsely used VM is not scanned more slowly than a full one.
 */
using Memvisor.Core.Memory;

namespace Memvisor.Core.Sharing;

/// <summary>Scan rates of the sharing scanner.</summary>
public sealed record ShareScanOptions
{
    /// <summary>Pages considered per second in each VM (ESX 2.x: 50).</summary>
    public double PerVmPagesPerSecond { get; init; } = 50;

    /// <summary>Pages considered per second over the whole host (ESX 2.x: 200).</summary>
    public double HostPagesPerSecond { get; init; } = 200;

    /// <summary>Random draws per credit to find a private page.</summary>
    public int DrawsPerCredit { get; init; } = 4;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field when a rate is not positive.</summary>
    public void Validate()
    {
        if (!(PerVmPagesPerSecond > 0))
        {
            throw new ArgumentException($"Share scan rate per VM: {PerVmPagesPerSecond} pages/s; must be positive.");
        }

        if (!(HostPagesPerSecond > 0))
        {
            throw new ArgumentException($"Share scan rate per host: {HostPagesPerSecond} pages/s; must be positive.");
        }

        if (DrawsPerCredit < 1)
        {
            throw new ArgumentException($"Share scan draws per credit: {DrawsPerCredit}; must be at least 1.");
        }
    }
}

/// <summary>Paces <see cref="MemoryManager.TryShare"/> over random pages of every VM.</summary>
public sealed class ShareScanner
{
    private readonly MemoryManager _manager;
    private ShareScanOptions _options;
    /// <summary>Each VM's credit, with the incarnation it was earned by: a later VM given the same id starts at 0.</summary>
    private readonly Dictionary<VmId, (long Incarnation, double Credit)> _vmCredit = [];
    private readonly List<VmId> _vms = [];
    private double _hostCredit;
    private int _next;

    /// <summary>Creates a scanner for <paramref name="manager"/>.</summary>
    public ShareScanner(MemoryManager manager, ShareScanOptions options)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _manager = manager;
        _options = options;
    }

    /// <summary>Sets the scan rates (the policy's share scan rate); throws <see cref="ArgumentException"/> unless both are positive.</summary>
    public void SetRate(double perVmPagesPerSecond, double hostPagesPerSecond)
    {
        if (perVmPagesPerSecond == _options.PerVmPagesPerSecond && hostPagesPerSecond == _options.HostPagesPerSecond)
        {
            return;
        }

        var options = _options with { PerVmPagesPerSecond = perVmPagesPerSecond, HostPagesPerSecond = hostPagesPerSecond };
        options.Validate();
        _options = options;
    }

    /// <summary>Pages this scanner offered to <see cref="MemoryManager.TryShare"/>.</summary>
    public long PagesConsidered { get; private set; }

    /// <summary>Spends the credit earned over <paramref name="elapsed"/>; returns the pages considered.</summary>
    public int Advance(TimeSpan elapsed)
    {
        var seconds = elapsed.TotalSeconds;
        if (seconds < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(elapsed), "Time does not run backwards.");
        }

        _vms.Clear();
        foreach (var vm in _manager.PoweredOnVms)
        {
            _vms.Add(vm);
            var earned = _vmCredit.TryGetValue(vm, out var c) && _manager.IsCurrent(vm, c.Incarnation) ? c.Credit : 0;
            _vmCredit[vm] = (_manager.IncarnationOf(vm), Math.Min(earned + (seconds * _options.PerVmPagesPerSecond), Math.Max(1, _options.PerVmPagesPerSecond)));
        }

        if (_vmCredit.Count > _vms.Count)
        {
            // A VM powered off: forget its credit.
            foreach (var vm in _vmCredit.Keys)
            {
                if (!_manager.IsPoweredOn(vm))
                {
                    _vmCredit.Remove(vm);
                }
            }
        }

        _hostCredit = Math.Min(_hostCredit + (seconds * _options.HostPagesPerSecond), Math.Max(1, _options.HostPagesPerSecond));
        var considered = 0;
        var progressed = true;
        while (progressed && _hostCredit >= 1 && _vms.Count > 0)
        {
            progressed = false;
            for (var k = 0; k < _vms.Count && _hostCredit >= 1; k++)
            {
                var vm = _vms[(_next + k) % _vms.Count];
                var (incarnation, credit) = _vmCredit[vm];
                if (credit < 1)
                {
                    continue;
                }

                _vmCredit[vm] = (incarnation, credit - 1);
                _hostCredit -= 1;
                progressed = true;
                considered++;
                ScanOne(vm);
            }

            _next = (_next + 1) % _vms.Count;
        }

        PagesConsidered += considered;
        return considered;
    }

    private void ScanOne(VmId vm)
    {
        for (var draw = 0; draw < _options.DrawsPerCredit; draw++)
        {
            var ppn = _manager.RandomPage(vm);
            if (_manager.IsShareCandidate(vm, ppn))
            {
                _manager.TryShare(vm, ppn);
                return;
            }
        }
    }
}
