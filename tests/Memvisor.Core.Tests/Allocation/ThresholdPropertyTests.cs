using CsCheck;
using Memvisor.Core.Allocation;

namespace Memvisor.Core.Tests.Allocation;

/// <summary>
/// Issue 13, item 2: targets leave free memory at the free target, so the free target must be exactly the
/// free memory at which the state machine climbs back to high. Hosts of any size (odd ones, where
/// rounding percentages up shows: ceil(7% of 1024) = 72 but ceil(6%) + ceil(1%) = 73) and any valid thresholds.
/// </summary>
public class ThresholdPropertyTests
{
    private static readonly Gen<(AllocationOptions Options, long Total)> Hosts =
        from total in Gen.OneOf(Gen.Long[1, 5000], Gen.Long[1, 100_000_000])
        from low in Gen.Double[0.1, 3]
        from hard in Gen.Double[0.1, 3]
        from soft in Gen.Double[0.1, 3]
        from high in Gen.Double[0.1, 3]
        from margin in Gen.Double[0, 3]
        select (new AllocationOptions { LowPercent = low, HardPercent = low + hard, SoftPercent = low + hard + soft, HighPercent = low + hard + soft + high, HysteresisPercent = margin }, total);

    [Fact]
    public void The_free_target_takes_a_host_in_soft_back_to_high_and_one_page_less_does_not()
    {
        Hosts.Sample(h =>
        {
            var (options, total) = h;
            var target = options.FreeTargetPages(total);
            if (target > total)
            {
                return;
            }

            Assert.Equal(FreeMemoryState.High, InSoft(options, total).Update(target, total));
            Assert.NotEqual(FreeMemoryState.High, InSoft(options, total).Update(target - 1, total));
        });
    }

    [Fact]
    public void Each_state_is_reentered_from_below_at_its_reentry_level_exactly()
    {
        Hosts.Sample(h =>
        {
            var (options, total) = h;
            foreach (var state in new[] { FreeMemoryState.High, FreeMemoryState.Soft, FreeMemoryState.Hard })
            {
                var level = options.ReentryPages(state, total);
                if (level > total)
                {
                    continue;
                }

                var machine = new FreeMemoryStateMachine(options);
                machine.Update(0, total);
                Assert.True(machine.Update(level, total) <= state, $"{total} pages: {level} free climbs to {state}");
                machine = new FreeMemoryStateMachine(options);
                machine.Update(0, total);
                if (level - 1 >= 0)
                {
                    Assert.True(machine.Update(level - 1, total) > state, $"{total} pages: {level - 1} free stays below {state}");
                }
            }
        });
    }

    [Fact]
    public void A_1024_page_host_leaves_soft_at_its_free_target()
    {
        var options = new AllocationOptions();
        Assert.Equal(FreeMemoryState.High, InSoft(options, 1024).Update(options.FreeTargetPages(1024), 1024));
    }

    private static FreeMemoryStateMachine InSoft(AllocationOptions options, long total)
    {
        var machine = new FreeMemoryStateMachine(options);
        machine.Update(options.ThresholdPages(FreeMemoryState.Soft, total) - 1 < 0 ? 0 : options.ThresholdPages(FreeMemoryState.Soft, total) - 1, total);
        return machine;
    }
}
