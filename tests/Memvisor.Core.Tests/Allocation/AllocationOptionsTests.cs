using Memvisor.Core.Allocation;

namespace Memvisor.Core.Tests.Allocation;

public class AllocationOptionsTests
{
    [Fact]
    public void Defaults_are_the_papers()
    {
        var options = new AllocationOptions();
        options.Validate();

        Assert.Equal(0.75, options.Tau);
        Assert.Equal(4, options.CreateIdleMemoryTax().IdleCost);
        Assert.Equal(15, options.BalancePeriodSeconds);
        Assert.Equal([6.0, 4, 2, 1], new[] { options.HighPercent, options.SoftPercent, options.HardPercent, options.LowPercent });
    }

    [Fact]
    public void Pages_available_to_vms_leave_overhead_and_the_free_target_aside()
    {
        // 100000 machine pages, 5000 of VM overhead. Free target: (6% + 1%) of 100000 = 7000 pages.
        // 100000 - 5000 - 7000 = 88000.
        var options = new AllocationOptions();

        Assert.Equal(7000, options.FreeTargetPages(100_000));
        Assert.Equal(88_000, options.PagesAvailableToVms(100_000, 5000));
        Assert.Equal(0, options.PagesAvailableToVms(100_000, 95_000));
    }

    public static TheoryData<AllocationOptions, string> Invalid => new()
    {
        { new AllocationOptions { Tau = 1 }, "(Tau): 1;" },
        { new AllocationOptions { Tau = -0.1 }, "(Tau): -0.1;" },
        { new AllocationOptions { Tau = double.NaN }, "(Tau): NaN;" },
        { new AllocationOptions { BalancePeriodSeconds = 0 }, "BalancePeriodSeconds: 0;" },
        { new AllocationOptions { HighPercent = 100 }, "HighPercent: 100;" },
        { new AllocationOptions { LowPercent = 0 }, "LowPercent: 0;" },
        { new AllocationOptions { SoftPercent = 6 }, "SoftPercent: 6; must be below HighPercent (6)" },
        { new AllocationOptions { HardPercent = 5 }, "HardPercent: 5; must be below SoftPercent (4)" },
        { new AllocationOptions { LowPercent = 2 }, "LowPercent: 2; must be below HardPercent (2)" },
        { new AllocationOptions { HysteresisPercent = -1 }, "HysteresisPercent: -1;" },
        { new AllocationOptions { HysteresisPercent = 94 }, "HysteresisPercent: 94;" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Validate_names_the_field_value_and_rule(AllocationOptions options, string expected)
    {
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("AllocationOptions", options.ToString(), StringComparison.Ordinal); // printable even when invalid

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
