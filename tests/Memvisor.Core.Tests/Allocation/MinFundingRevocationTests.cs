/*
 * Worked examples of the targets (paper §5.1-§5.2, §6.2), each computed by hand in its comment.
 * Units: 1 MB = 256 pages of 4 KiB. Two VMs of 256 MB (65536 pages) each unless said otherwise,
 * equal shares S unless said otherwise. "Active" VMs have f = 1 of their 256 MB allocated (A = 65536),
 * "idle" VMs f = 0 (A = 0). At tau = 0.75 the idle page cost is k = 1/(1 - 0.75) = 4.
 * In the steady state VMs strictly between min and max have equal rho = S / cost(P),
 * cost(P) = min(P, A) + k * max(0, P - A).
 */
using Memvisor.Core.Allocation;
using Memvisor.Core.Memory;

namespace Memvisor.Core.Tests.Allocation;

[Collection(AllocationMeasurement.Name)]
public class MinFundingRevocationTests
{
    private const int Mb = 256; // pages per MB
    private const double S = 2560; // normal shares of a 256 MB VM: 10 per MB

    private static VmAllocationInput Vm(ushort id, double activeFraction, double shares = S, int minMb = 0, int maxMb = 256, int allocatedMb = 256) =>
        new(new VmId(id), shares, minMb * Mb, maxMb * Mb, allocatedMb * Mb, activeFraction);

    private static (int[] Targets, AllocationOutcome Outcome) Compute(double tau, long availablePages, params VmAllocationInput[] vms)
    {
        var targets = new int[vms.Length];
        var calculator = new MinFundingRevocation(new IdleMemoryTax(tau));
        var outcome = calculator.ComputeTargets(vms, availablePages, targets);

        // The examples have whole-page solutions: the water level alone finds them, no page moves one at a time.
        Assert.Equal(0, calculator.LastSettledPages);
        return (targets, outcome);
    }

    [Fact]
    public void Without_the_tax_an_idle_and_an_active_vm_with_equal_shares_split_memory_equally()
    {
        // tau = 0, k = 1: cost = P for both. Equal rho: S/P1 = S/P2, so P1 = P2 = 300 MB / 2 = 150 MB = 38400 pages.
        var (targets, outcome) = Compute(0, 300 * Mb, Vm(0, activeFraction: 0), Vm(1, activeFraction: 1));

        Assert.Equal([150 * Mb, 150 * Mb], targets);
        Assert.True(outcome.Overcommitted);
        Assert.Equal(300 * Mb, outcome.TargetPages);
        Assert.Equal(S / (150 * Mb), outcome.Level, 12);
    }

    [Fact]
    public void With_the_tax_the_active_vm_gets_the_idle_vms_memory_in_the_ratio_k()
    {
        // tau = 0.75, k = 4. Idle VM1: cost 4*P1. Active VM2 (A = 65536): cost P2 while P2 <= 65536.
        // Equal rho: S/(4*P1) = S/P2, so P2 = 4*P1; P1 + P2 = 76800 gives 5*P1 = 76800:
        // P1 = 15360 pages (60 MB), P2 = 61440 pages (240 MB) <= A. Level rho = S/61440.
        var (targets, outcome) = Compute(0.75, 300 * Mb, Vm(0, activeFraction: 0), Vm(1, activeFraction: 1));

        Assert.Equal([60 * Mb, 240 * Mb], targets);
        Assert.Equal(S / 61440, outcome.Level, 12);
        var tax = new IdleMemoryTax(0.75);
        Assert.Equal(tax.AdjustedSharesPerPage(S, targets[0], 0), tax.AdjustedSharesPerPageWithActivePages(S, targets[1], 65536), 12);
    }

    [Fact]
    public void A_partly_active_vm_pays_the_tax_only_on_its_idle_pages()
    {
        // tau = 0.75, k = 4. VM1 idle: cost 4*P1. VM2 f = 0.5 of 256 MB: A2 = 32768 pages.
        // Above A2: cost2 = 32768 + 4*(P2 - 32768) = 4*P2 - 98304.
        // Equal rho: 4*P1 = 4*P2 - 98304, so P1 = P2 - 24576; P1 + P2 = 98304 (384 MB) gives
        // 2*P2 = 122880: P2 = 61440 (240 MB, above A2 as assumed), P1 = 36864 (144 MB).
        var (targets, _) = Compute(0.75, 384 * Mb, Vm(0, activeFraction: 0), Vm(1, activeFraction: 0.5));

        Assert.Equal([144 * Mb, 240 * Mb], targets);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.75)]
    public void Shares_of_two_to_one_split_memory_two_to_one_when_both_vms_are_equally_idle(double tau)
    {
        // Both idle: cost = k*P for both, so k cancels. Equal rho: 2000/(k*P1) = 1000/(k*P2): P1 = 2*P2.
        // P1 + P2 = 76800 (300 MB): P2 = 25600 (100 MB), P1 = 51200 (200 MB).
        var (targets, _) = Compute(tau, 300 * Mb, Vm(0, 0, shares: 2000), Vm(1, 0, shares: 1000));

        Assert.Equal([200 * Mb, 100 * Mb], targets);
    }

    [Fact]
    public void Shares_of_two_to_one_without_the_tax_ignore_activity()
    {
        // tau = 0: cost = P whatever f, so 2:1 shares give 2:1 pages: 200 MB and 100 MB of 300 MB.
        var (targets, _) = Compute(0, 300 * Mb, Vm(0, 0, shares: 2000), Vm(1, 1, shares: 1000));

        Assert.Equal([200 * Mb, 100 * Mb], targets);
    }

    [Fact]
    public void A_min_binds_the_idle_vm_and_the_active_vm_gets_the_rest()
    {
        // As With_the_tax_..., whose unconstrained P1 is 60 MB, but VM1 has min 128 MB = 32768 pages.
        // P1 = 32768, P2 = 76800 - 32768 = 44032 pages (172 MB). VM1's rho S/(4*32768) is below VM2's
        // S/44032, but VM1 cannot give up more.
        var (targets, _) = Compute(0.75, 300 * Mb, Vm(0, 0, minMb: 128), Vm(1, 1));

        Assert.Equal([128 * Mb, 172 * Mb], targets);
    }

    [Fact]
    public void A_max_binds_the_active_vm_and_the_idle_vm_gets_the_rest()
    {
        // tau = 0.75, 384 MB = 98304 pages. Unconstrained P2 = 4*P1 gives P1 = 19660.8, P2 = 78643.2,
        // above VM2's max 65536. So P2 = 65536 (256 MB) and P1 = 98304 - 65536 = 32768 (128 MB).
        var (targets, _) = Compute(0.75, 384 * Mb, Vm(0, 0), Vm(1, 1));

        Assert.Equal([128 * Mb, 256 * Mb], targets);
    }

    [Fact]
    public void A_vm_with_min_equal_to_max_keeps_exactly_that_and_the_others_share_the_rest()
    {
        // VM2: min = max = 100 MB, fully active (A = max). 300 MB available: 300 - 100 = 200 MB for the
        // two equal idle VMs, 100 MB each (cost 4*P both, equal rho at P0 = P1).
        var (targets, _) = Compute(0.75, 300 * Mb, Vm(0, 0), Vm(1, 0), Vm(2, 1, minMb: 100, maxMb: 100, allocatedMb: 100));

        Assert.Equal([100 * Mb, 100 * Mb, 100 * Mb], targets);
    }

    [Theory]
    [InlineData(512)] // exactly 256 + 256 MB
    [InlineData(600)]
    public void Without_overcommitment_every_vm_gets_its_max(int availableMb)
    {
        var (targets, outcome) = Compute(0.75, availableMb * Mb, Vm(0, 0, shares: 1), Vm(1, 1, shares: 1000, maxMb: 256));

        Assert.Equal([256 * Mb, 256 * Mb], targets);
        Assert.False(outcome.Overcommitted);
        Assert.Equal(512 * Mb, outcome.TargetPages);
    }

    [Fact]
    public void Pages_left_by_rounding_go_where_one_page_at_a_time_revocation_leaves_them()
    {
        // Three equal idle VMs of 100 pages, 100 available: 33.3 each. Revocation from 300 pages takes
        // 200 pages round-robin from the lowest index on ties: VM0 and VM1 lose 67, VM2 loses 66.
        VmAllocationInput[] vms = [new(new VmId(0), 10, 0, 100, 100, 0), new(new VmId(1), 10, 0, 100, 100, 0), new(new VmId(2), 10, 0, 100, 100, 0)];
        var fast = new int[3];
        var reference = new int[3];
        new MinFundingRevocation(new IdleMemoryTax(0.75)).ComputeTargets(vms, 100, fast);
        PageByPageRevocation.ComputeTargets(new IdleMemoryTax(0.75), vms, 100, reference);

        Assert.Equal([33, 33, 34], reference);
        Assert.Equal(reference, fast);
    }

    [Fact]
    public void When_even_the_mins_do_not_fit_every_vm_gets_its_min_and_the_shortfall_is_reported()
    {
        // Mins 200 + 150 MB = 350 MB on 300 MB available: 50 MB = 12800 pages short.
        var (targets, outcome) = Compute(0.75, 300 * Mb, Vm(0, 0, minMb: 200), Vm(1, 1, minMb: 150));

        Assert.Equal([200 * Mb, 150 * Mb], targets);
        Assert.Equal(50 * Mb, outcome.ShortfallPages);
    }

    [Fact]
    public void Invalid_inputs_are_rejected_naming_the_vm_and_field()
    {
        var calculator = new MinFundingRevocation(IdleMemoryTax.None);
        var targets = new int[1];
        var zeroShares = Assert.Throws<ArgumentException>(() => calculator.ComputeTargets([Vm(7, 0, shares: 0)], 100, targets));
        Assert.Contains("VM 7 shares", zeroShares.Message, StringComparison.Ordinal);
        var badFraction = Assert.Throws<ArgumentException>(() => calculator.ComputeTargets([Vm(7, 1.5)], 100, targets));
        Assert.Contains("VM 7 active fraction", badFraction.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => calculator.ComputeTargets([Vm(7, 0, minMb: 300)], 100, targets));
        Assert.Throws<ArgumentException>(() => calculator.ComputeTargets([Vm(7, 0)], 100, new int[2]));
    }

    [Fact]
    public void Repeated_computations_do_not_allocate()
    {
        var vms = Enumerable.Range(0, 50).Select(i => Vm((ushort)i, i % 5 / 4.0, shares: 100 + i, minMb: i % 3, maxMb: 64 + i)).ToArray();
        var targets = new int[vms.Length];
        var calculator = new MinFundingRevocation(new IdleMemoryTax(0.75));
        var available = vms.Sum(v => (long)v.MaxPages) / 2;
        calculator.ComputeTargets(vms, available, targets); // sizes the buffers

        var (least, _) = AllocationMeasurement.Least(() =>
        {
            for (var round = 0; round < 100; round++)
            {
                calculator.ComputeTargets(vms, available - round, targets);
            }
        });

        Assert.Equal(0, least);
    }
}
