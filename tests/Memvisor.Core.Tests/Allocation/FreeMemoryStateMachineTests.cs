/*
 * Free-memory states with hysteresis (paper §6.3). A machine of 10000 pages with the defaults:
 * thresholds high 6% = 600, soft 4% = 400, hard 2% = 200, low 1% = 100 pages; margin 1% = 100 pages.
 * Down: below 400 -> soft, below 200 -> hard, below 100 -> low. Up: from low to hard at >= 200 + 100,
 * from hard to soft at >= 400 + 100, from soft to high at >= 600 + 100.
 */
using Memvisor.Core.Allocation;

namespace Memvisor.Core.Tests.Allocation;

public class FreeMemoryStateMachineTests
{
    private const long Total = 10_000;

    [Fact]
    public void States_fall_at_their_thresholds_and_climb_only_past_threshold_plus_margin()
    {
        var machine = new FreeMemoryStateMachine(new AllocationOptions());
        (long Free, FreeMemoryState Expected)[] steps =
        [
            (500, FreeMemoryState.High), // below high's 600 but not below soft's 400: no reclamation yet
            (400, FreeMemoryState.High), // exactly at soft's threshold is not below it
            (399, FreeMemoryState.Soft), // below 400
            (650, FreeMemoryState.Soft), // above high's 600 but short of 600 + 100
            (700, FreeMemoryState.High), // 600 + 100
            (150, FreeMemoryState.Hard), // below 400 and 200 at once: straight to hard
            (99, FreeMemoryState.Low), // below 100
            (299, FreeMemoryState.Low), // short of 200 + 100
            (300, FreeMemoryState.Hard), // 200 + 100
            (150, FreeMemoryState.Hard), // in hard until below low's 100
            (499, FreeMemoryState.Hard), // short of 400 + 100
            (500, FreeMemoryState.Soft), // 400 + 100
            (10_000, FreeMemoryState.High), // a VM powered off: back to high in one update
        ];

        foreach (var (free, expected) in steps)
        {
            Assert.Equal(expected, machine.Update(free, Total));
            Assert.Equal(expected, machine.State);
        }

        // High->Soft, Soft->High, High->Hard, Hard->Low, Low->Hard, Hard->Soft, Soft->High.
        Assert.Equal(7, machine.Transitions);
        Assert.Equal(2, machine.Entries(FreeMemoryState.High));
        Assert.Equal(2, machine.Entries(FreeMemoryState.Soft));
        Assert.Equal(2, machine.Entries(FreeMemoryState.Hard));
        Assert.Equal(1, machine.Entries(FreeMemoryState.Low));
    }

    [Theory]
    [InlineData(5000, FreeMemoryState.High, ReclamationAction.None)]
    [InlineData(399, FreeMemoryState.Soft, ReclamationAction.Balloon)]
    [InlineData(199, FreeMemoryState.Hard, ReclamationAction.Swap)]
    [InlineData(99, FreeMemoryState.Low, ReclamationAction.SwapAndBlock)]
    public void Each_state_calls_for_its_reclamation(long free, FreeMemoryState state, ReclamationAction action)
    {
        var machine = new FreeMemoryStateMachine(new AllocationOptions());
        machine.Update(free, Total);

        Assert.Equal(state, machine.State);
        Assert.Equal(action, machine.Reclamation);
    }

    [Fact]
    public void Thresholds_and_margin_are_configurable()
    {
        // High 10% = 1000, soft 5% = 500, margin 0: back to high as soon as free reaches 1000.
        var machine = new FreeMemoryStateMachine(new AllocationOptions { HighPercent = 10, SoftPercent = 5, HysteresisPercent = 0 });

        Assert.Equal(FreeMemoryState.Soft, machine.Update(499, Total));
        Assert.Equal(FreeMemoryState.Soft, machine.Update(999, Total));
        Assert.Equal(FreeMemoryState.High, machine.Update(1000, Total));
    }

    [Fact]
    public void A_threshold_is_the_exact_fraction_of_machine_memory()
    {
        // 4% of 1001 pages is 40.04 pages: 40 free pages are below it.
        var machine = new FreeMemoryStateMachine(new AllocationOptions());

        Assert.Equal(FreeMemoryState.High, machine.Update(41, 1001));
        Assert.Equal(FreeMemoryState.Soft, machine.Update(40, 1001));
    }

    [Fact]
    public void Free_memory_outside_the_machine_is_rejected()
    {
        var machine = new FreeMemoryStateMachine(new AllocationOptions());

        Assert.Throws<ArgumentOutOfRangeException>(() => machine.Update(-1, Total));
        Assert.Throws<ArgumentOutOfRangeException>(() => machine.Update(Total + 1, Total));
        Assert.Throws<ArgumentOutOfRangeException>(() => machine.Update(0, 0));
    }
}
