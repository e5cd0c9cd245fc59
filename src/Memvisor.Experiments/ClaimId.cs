/*
 * Every claim an experiment checks, by a stable id: tests and tools find a claim by its id, never by its
 * wording or its place in the report. Each id says which figure ClaimResult.Measured holds and whether
 * ClaimResult.Paper has the paper's value of it (null where the paper gives none). Grouped by experiment,
 * in the catalog's order; an id is never reused for another claim.
 */
namespace Memvisor.Experiments;

/// <summary>The claims the experiments check.</summary>
public enum ClaimId
{
    /// <summary>balloon: a ballooned VM performs close to one configured with that memory. Measured: largest |throughput loss|, %; paper: its largest loss, 4.4%.</summary>
    BalloonCloseToConfigured,

    /// <summary>balloon: the ballooned VM is slightly slower, not faster. Measured: smallest throughput loss, %; paper: its smallest, 1.4%.</summary>
    BalloonSlightlySlower,

    /// <summary>balloon: throughput grows with memory. Measured: configured throughput at the largest size over the smallest (none in the paper).</summary>
    BalloonThroughputGrowsWithMemory,

    /// <summary>double-paging: no double paging once the balloon is at its target. Measured: ballooning's double-paging reads in the window, pages (the paper argues it, no number).</summary>
    DoublePagingAvoidedAtTarget,

    /// <summary>double-paging: ballooning avoids double paging over the whole run. Measured: ballooning's double-paging reads over the run, pages (the paper argues it, no number).</summary>
    DoublePagingAvoidedOverRun,

    /// <summary>double-paging: ballooning avoids most host paging I/O. Measured: ballooning's host swap-outs + swap-ins over host swapping's (none in the paper).</summary>
    DoublePagingHostIoAvoided,

    /// <summary>double-paging: the VM runs faster with ballooning. Measured: ballooning's throughput over host swapping's (none in the paper).</summary>
    DoublePagingBalloonedFaster,

    /// <summary>sharing-scaling: reclaimed memory grows with the number of identical VMs. Measured: reclaimed memory at the largest count over one VM's (none in the paper).</summary>
    SharingGrowsWithVms,

    /// <summary>sharing-scaling: the reclaimed fraction grows with the VMs. Measured: reclaimed % of VM memory at the largest count; paper: 60 (at 10 VMs).</summary>
    SharingFractionGrowsWithVms,

    /// <summary>sharing-scaling: one VM alone reclaims mostly zero pages. Measured: zero pages' share of one VM's reclaimed memory, % (the paper says "mostly", no number).</summary>
    SharingOneVmMostlyZeroPages,

    /// <summary>sharing-scaling: sharing costs next to no throughput. Measured: largest |throughput change| with sharing on, %; paper: 1.8 (its range -1.6..+1.8).</summary>
    SharingCostsNoThroughput,

    /// <summary>sharing-mixed: sharing reclaims memory on every mixed host. Measured: the smallest reclaimed % of VM memory over the hosts; paper: host C's 7.2%.</summary>
    MixedEveryHostReclaims,

    /// <summary>sharing-mixed: host C (few VMs, different images) reclaims the smallest fraction. Measured: host C's reclaimed % of VM memory; paper: 7.2%.</summary>
    MixedFewDifferentImagesReclaimLeast,

    /// <summary>sharing-mixed: zero pages are part of what the Linux hosts share. Measured: the smaller of hosts B's and C's zero MB (none comparable in the paper: its sizes differ).</summary>
    MixedLinuxHostsShareZeroPages,

    /// <summary>salting: a salt per VM saves less than one salt. Measured: its reclaimed MB over one salt's (no paper number).</summary>
    SaltPerVmSavesLess,

    /// <summary>salting: zero pages across VMs save a salt per VM's plus one page per VM. Measured: the pages saved beyond a salt per VM (no paper number).</summary>
    SaltZeroPagesAcrossVmsAddOnePagePerVm,

    /// <summary>sampling: the estimate rises at least 3 times faster than it falls. Measured: fastest 90% fall over slowest 90% rise (no paper number).</summary>
    SamplingRisesFastFallsSlowly,

    /// <summary>sampling: 90% of each step up within 2 periods at the default fast gain (the evidence gives the gains for which it holds). Measured: periods to 90% of the slowest step up (no paper number).</summary>
    SamplingRisesWithinTwoPeriods,

    /// <summary>sampling: at least 5 periods to come 90% down after a step down. Measured: periods to 90% of the fastest step down (no paper number).</summary>
    SamplingFallsSlowly,

    /// <summary>sampling: between changes the estimate tracks the truth. Measured: mean |estimate - truth|, % of VM memory (no paper number).</summary>
    SamplingTracksTruth,

    /// <summary>sampling: the post-boot spike comes from the Windows zero-page thread. Measured: Windows' true working set in period 1, % of VM memory (no paper number).</summary>
    SamplingBootSpikeFromZeroPageThread,

    /// <summary>sampling: started from 0%, the Windows estimate peaks at least twice the Linux one. Measured: Windows' peak over Linux' (no paper number).</summary>
    SamplingBootSpikeMeasured,

    /// <summary>sampling: the rise is set by the fast gain: at the highest gain swept, 90% of a step up in at most half the periods of the lowest. Measured: periods at the lowest gain over those at the highest (no paper number; the paper gives no gains).</summary>
    SamplingRiseSetByFastGain,

    /// <summary>idle-tax: with tau = 0 both VMs get about the same memory. Measured: |VM1 - VM2| allocation, MB (the paper's are equal: 0).</summary>
    IdleTaxEqualWithoutTax,

    /// <summary>idle-tax: raising tau moves idle memory from VM1 to VM2. Measured: the smaller of VM1's loss and VM2's gain, MB (no paper number).</summary>
    IdleTaxMovesIdleMemory,

    /// <summary>idle-tax: raising tau raises VM2's throughput beyond two standard errors. Measured: the gain, %; paper: 30 (its lower bound).</summary>
    IdleTaxRaisesThroughput,

    /// <summary>idle-tax: the gain is more than 30%, as in the paper. Measured: the gain, %; paper: 30.</summary>
    IdleTaxGainAsInPaper,

    /// <summary>policy: high and soft hold at least 95% of the run. Measured: their share of the run, % (no paper number).</summary>
    PolicyMostlyHighOrSoft,

    /// <summary>policy: ballooning does most of the reclamation and swap stays small. Measured: ballooning's share of balloon + swap, % (no paper number).</summary>
    PolicyBallooningDoesMost,

    /// <summary>policy: allocation tracks active memory. Measured: rank correlation of held memory and active estimate (no paper number).</summary>
    PolicyAllocationTracksActivity,

    /// <summary>io-remap: remapping cuts bounce copies by orders of magnitude. Measured: steady-state factor at 4 MB of buffers (no paper number: the claim reads "orders of magnitude" as at least 100x).</summary>
    IoRemapCutsBounceCopies,

    /// <summary>io-remap (beyond the paper, its future work): cold low pages are demoted when low memory runs short and hot pages stay low. Measured: pages demoted (no paper number).</summary>
    IoRemapDemotesWhenLowIsShort,
}
