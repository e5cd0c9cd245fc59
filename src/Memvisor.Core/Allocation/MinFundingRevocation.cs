/*
 * Per-VM memory targets by min-funding revocation with the idle memory tax (paper §5.1-§5.2, §6.2).
 *
 * Problem. Given, per VM, shares S, min, max, and A active pages (A = f * allocated, from the
 * working-set estimate), and the pages T the host can give to VMs (machine memory minus overhead
 * minus the free target that takes free memory back above the high threshold), choose targets P in
 * [min, max] with sum P <= T. Memory is "granted in full when not overcommitted": if sum max <= T
 * every VM gets max. Otherwise the paper's rule applies: when memory is needed, the page is taken
 * from the VM with the smallest adjusted shares-per-page ratio
 *
 *     rho(P) = S / cost(P),   cost(P) = min(P, A) + k * max(0, P - A),   k = 1 / (1 - tau)
 *
 * (IdleMemoryTax: an active page costs 1, an idle page k; A stays fixed while P varies, and below A
 * every allocated page is active). The targets are the steady state of that rule.
 *
 * The reference (PageByPageRevocation) runs the rule literally: start every VM at max and, while the
 * sum exceeds T, take one page from the VM above its min with the smallest rho(P), lowest index first
 * on ties. Its result has a simple description. Call rho(p) the "value" of a VM's p-th page (the
 * ratio the VM has while holding p pages). cost is increasing, so a VM's page values strictly
 * decrease with p: a VM's top page is its least valuable one. Each step therefore removes the
 * least valuable page still held above the mins, and the whole run removes pages in increasing order
 * of value, (value, VM index) on ties. So the result is: every VM keeps its min pages, plus the
 * T - sum min most valuable pages above the mins. Equivalently there is a level L such that every
 * VM above its min has rho(P) >= L and every VM below its max has rho(P + 1) <= L: VMs strictly
 * between min and max have equal rho to within one page, which is the paper's steady state.
 *
 * Direct computation (this file), O(n log n). Work with the cost per share x = 1/rho, which grows
 * as memory is handed out. At level x a VM holds P(x) = clamp(cost^-1(S * x), min, max) pages, where
 * cost^-1(y) = y for y <= A and A + (y - A) / k above: P(x) is continuous, non-decreasing and
 * piecewise linear in x, constant (min) up to x = cost(min)/S, then of slope S (while P < A) and
 * S/k (while P > A), constant (max) from x = cost(max)/S on. So F(x) = sum P(x) is piecewise linear
 * with at most 3n breakpoints. Sort the breakpoints with their slope changes, sweep F from
 * F(0) = sum min, and solve the linear piece where F reaches T for the water level x*. That is
 * water-filling: VMs strictly between min and max get exactly rho = 1/x*.
 * Pages are whole: a VM's pages with value >= 1/x* are the first floor(P(x*)) (the others lie below
 * the level), and there are at most T of them, so taking floor(P(x*)) keeps only pages the reference
 * keeps. Fewer than n pages remain to hand out (each floor drops less than one page); they go, one by
 * one, to the VM whose next page is the most valuable ((value, VM index) descending, from a
 * heap), which is exactly the order in which the reference would have kept them. Should rounding
 * push the floors above T, the least valuable pages are taken back first, as the reference would.
 * The result equals the reference's, up to floating-point ties between VMs (at most one page per VM).
 *
 * Buffers (breakpoints, heap) are kept between calls: repeated calls with no more VMs than before
 * do not allocate.
 */
using Memvisor.Core.Memory;

namespace Memvisor.Core.Allocation;

/// <summary>One VM's input to the target computation.</summary>
/// <param name="Vm">The VM.</param>
/// <param name="Shares">Its shares (resolved: <see cref="Allocation.Shares.Resolve"/>); positive.</param>
/// <param name="MinPages">Guaranteed pages: the target is never below.</param>
/// <param name="MaxPages">Configured size: the target is never above.</param>
/// <param name="AllocatedPages">Pages it has now (the base of <paramref name="ActiveFraction"/>).</param>
/// <param name="ActiveFraction">Estimated active fraction f of the allocated pages, in [0, 1].</param>
public readonly record struct VmAllocationInput(VmId Vm, double Shares, int MinPages, int MaxPages, int AllocatedPages, double ActiveFraction)
{
    /// <summary>A = f * allocated: the active pages, held fixed while the target varies.</summary>
    public double ActivePages => ActiveFraction * AllocatedPages;

    /// <summary>Throws <see cref="ArgumentException"/> naming the VM, the field and the rule.</summary>
    public void Validate()
    {
        if (!(double.IsFinite(Shares) && Shares > 0))
        {
            throw new ArgumentException($"{Vm} shares: {Shares}; must be positive and finite.");
        }

        if (MinPages < 0 || MinPages > MaxPages)
        {
            throw new ArgumentException($"{Vm} min: {MinPages} pages; must be between 0 and max ({MaxPages} pages).");
        }

        if (AllocatedPages < 0)
        {
            throw new ArgumentException($"{Vm} allocated: {AllocatedPages} pages; must not be negative.");
        }

        if (!(ActiveFraction >= 0 && ActiveFraction <= 1))
        {
            throw new ArgumentException($"{Vm} active fraction: {ActiveFraction}; must be between 0 and 1.");
        }
    }
}

/// <summary>A summary of one target computation.</summary>
/// <param name="AvailablePages">Pages the targets could hand out (the input).</param>
/// <param name="TargetPages">Sum of the targets: at most <paramref name="AvailablePages"/> unless the mins alone exceed it.</param>
/// <param name="Overcommitted">True when the maxes did not all fit, so some VM is below its max.</param>
/// <param name="ShortfallPages">Sum of mins minus available pages when positive (admission control should prevent it), else 0.</param>
/// <param name="Level">
/// The adjusted shares-per-page ratio rho that VMs strictly between min and max are brought to: 0 when not
/// overcommitted (no VM is limited), +infinity when even the mins do not fit.
/// </param>
public readonly record struct AllocationOutcome(long AvailablePages, long TargetPages, bool Overcommitted, long ShortfallPages, double Level);

/// <summary>Computes per-VM targets as the steady state of min-funding revocation with the idle memory tax.</summary>
public sealed class MinFundingRevocation
{
    private readonly PriorityQueue<int, (double Value, int Index)> _grants = new(MostValuableFirst.Instance);
    private double[] _breakpoints = [];
    private double[] _slopeChanges = [];

    /// <summary>A calculator with the idle memory tax <paramref name="tax"/>.</summary>
    public MinFundingRevocation(IdleMemoryTax tax) => Tax = tax;

    /// <summary>The idle memory tax applied.</summary>
    public IdleMemoryTax Tax { get; }

    /// <summary>Pages the last <see cref="Settle"/> moved one at a time: at most one per VM after the water level.</summary>
    internal long LastSettledPages { get; private set; }

    /// <summary>
    /// Writes each VM's target (pages, in [min, max]) into <paramref name="targets"/>, in the order of
    /// <paramref name="vms"/>, sharing <paramref name="availablePages"/> by min-funding revocation.
    /// </summary>
    public AllocationOutcome ComputeTargets(ReadOnlySpan<VmAllocationInput> vms, long availablePages, Span<int> targets)
    {
        if (targets.Length != vms.Length)
        {
            throw new ArgumentException($"Targets: {targets.Length} slots for {vms.Length} VMs; must be one per VM.", nameof(targets));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(availablePages);
        long sumMin = 0;
        long sumMax = 0;
        foreach (var vm in vms)
        {
            vm.Validate();
            sumMin += vm.MinPages;
            sumMax += vm.MaxPages;
        }

        if (sumMax <= availablePages)
        {
            for (var i = 0; i < vms.Length; i++)
            {
                targets[i] = vms[i].MaxPages;
            }

            return new AllocationOutcome(availablePages, sumMax, false, 0, 0);
        }

        if (sumMin >= availablePages)
        {
            for (var i = 0; i < vms.Length; i++)
            {
                targets[i] = vms[i].MinPages;
            }

            return new AllocationOutcome(availablePages, sumMin, true, sumMin - availablePages, double.PositiveInfinity);
        }

        LastSettledPages = 0;
        var costPerShare = WaterLevel(vms, availablePages, sumMin);
        long total = 0;
        for (var i = 0; i < vms.Length; i++)
        {
            targets[i] = (int)Math.Floor(PagesAtLevel(vms[i], costPerShare));
            total += targets[i];
        }

        total = Settle(vms, availablePages, targets, total);
        return new AllocationOutcome(availablePages, total, true, 0, 1 / costPerShare);
    }

    /// <summary>
    /// From any targets within [min, max] summing to <paramref name="total"/>: takes back the least valuable
    /// pages while the sum exceeds <paramref name="availablePages"/>, then hands out the most valuable next
    /// pages while it falls short. From all-max this is page-by-page revocation itself; from all-min it grants
    /// pages in the reverse order. Cheap only when few pages move, as after flooring the water level.
    /// </summary>
    internal long Settle(ReadOnlySpan<VmAllocationInput> vms, long availablePages, Span<int> targets, long total)
    {
        var afterTakingBack = TakeBackExcess(vms, availablePages, targets, total);
        var afterHandingOut = HandOutRemainder(vms, availablePages, targets, afterTakingBack);
        LastSettledPages = (total - afterTakingBack) + (afterHandingOut - afterTakingBack);
        return afterHandingOut;
    }

    /// <summary>rho of <paramref name="vm"/> holding <paramref name="pages"/> pages, its active pages fixed.</summary>
    internal static double Value(IdleMemoryTax tax, in VmAllocationInput vm, int pages) =>
        tax.AdjustedSharesPerPageWithActivePages(vm.Shares, pages, vm.ActivePages);

    // The cost per share x* at which sum clamp(cost^-1(S x*), min, max) = available (see the header).
    private double WaterLevel(ReadOnlySpan<VmAllocationInput> vms, long availablePages, long sumMin)
    {
        var k = Tax.IdleCost;
        EnsureCapacity(3 * vms.Length);
        var count = 0;
        foreach (var vm in vms)
        {
            if (vm.MinPages == vm.MaxPages)
            {
                continue; // fixed at min, already in sumMin (and its two slopes would not cancel when A = min = max)
            }

            var shares = vm.Shares;
            var active = vm.ActivePages;
            _breakpoints[count] = Tax.CostOfPages(vm.MinPages, active) / shares;
            _slopeChanges[count++] = vm.MinPages < active ? shares : shares / k;
            if (vm.MinPages < active && active < vm.MaxPages)
            {
                _breakpoints[count] = active / shares;
                _slopeChanges[count++] = (shares / k) - shares;
            }

            _breakpoints[count] = Tax.CostOfPages(vm.MaxPages, active) / shares;
            _slopeChanges[count++] = -(vm.MaxPages <= active ? shares : shares / k);
        }

        Array.Sort(_breakpoints, _slopeChanges, 0, count);
        double pages = sumMin;
        double slope = 0;
        double previous = 0;
        for (var e = 0; e < count; e++)
        {
            var x = _breakpoints[e];
            var reached = pages + (slope * (x - previous));
            if (reached >= availablePages && slope > 0)
            {
                return previous + ((availablePages - pages) / slope);
            }

            pages = reached;
            slope += _slopeChanges[e];
            previous = x;
        }

        // Only reachable through rounding: F reaches sum max (> available) at the last breakpoint.
        return count > 0 ? _breakpoints[count - 1] : 0;
    }

    private double PagesAtLevel(in VmAllocationInput vm, double costPerShare)
    {
        var cost = vm.Shares * costPerShare;
        var active = vm.ActivePages;
        var pages = cost <= active ? cost : active + ((cost - active) / Tax.IdleCost);
        return Math.Clamp(pages, vm.MinPages, vm.MaxPages);
    }

    // Takes pages back from the VM with the least valuable top page, lowest index on ties, as the reference does.
    // After flooring the water level this is only a guard against rounding: floors do not exceed the level.
    private long TakeBackExcess(ReadOnlySpan<VmAllocationInput> vms, long availablePages, Span<int> targets, long total)
    {
        while (total > availablePages)
        {
            var victim = -1;
            var least = double.PositiveInfinity;
            for (var i = 0; i < vms.Length; i++)
            {
                if (targets[i] > vms[i].MinPages)
                {
                    var value = Value(Tax, vms[i], targets[i]);
                    if (victim < 0 || value < least)
                    {
                        victim = i;
                        least = value;
                    }
                }
            }

            if (victim < 0)
            {
                break;
            }

            targets[victim]--;
            total--;
        }

        return total;
    }

    // Hands out the pages left by flooring, most valuable next page first.
    private long HandOutRemainder(ReadOnlySpan<VmAllocationInput> vms, long availablePages, Span<int> targets, long total)
    {
        if (total >= availablePages)
        {
            return total;
        }

        _grants.Clear();
        for (var i = 0; i < vms.Length; i++)
        {
            if (targets[i] < vms[i].MaxPages)
            {
                _grants.Enqueue(i, (Value(Tax, vms[i], targets[i] + 1), i));
            }
        }

        while (total < availablePages && _grants.TryDequeue(out var i, out _))
        {
            targets[i]++;
            total++;
            if (targets[i] < vms[i].MaxPages)
            {
                _grants.Enqueue(i, (Value(Tax, vms[i], targets[i] + 1), i));
            }
        }

        return total;
    }

    private void EnsureCapacity(int breakpoints)
    {
        if (_breakpoints.Length < breakpoints)
        {
            _breakpoints = new double[breakpoints];
            _slopeChanges = new double[breakpoints];
        }
    }

    // Heap order of the remainder: highest value first; on equal values the higher VM index, whose page
    // the reference (which revokes from the lowest index on ties) keeps.
    private sealed class MostValuableFirst : IComparer<(double Value, int Index)>
    {
        public static readonly MostValuableFirst Instance = new();

        public int Compare((double Value, int Index) x, (double Value, int Index) y)
        {
            var byValue = y.Value.CompareTo(x.Value);
            return byValue != 0 ? byValue : y.Index.CompareTo(x.Index);
        }
    }
}
