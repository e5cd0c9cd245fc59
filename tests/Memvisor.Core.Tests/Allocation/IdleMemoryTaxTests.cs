using Memvisor.Core.Allocation;

namespace Memvisor.Core.Tests.Allocation;

public class IdleMemoryTaxTests
{
    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(0.5, 2.0)]
    [InlineData(0.75, 4.0)]
    [InlineData(0.9, 10.0)]
    public void An_idle_page_costs_one_over_one_minus_tau(double tau, double k)
    {
        Assert.Equal(k, new IdleMemoryTax(tau).IdleCost, 12);
    }

    [Fact]
    public void Rho_is_shares_over_pages_weighted_by_activity()
    {
        // S = 1000, P = 1000, f = 0.25, tau = 0.75 (k = 4): P*(f + k*(1 - f)) = 1000*(0.25 + 3) = 3250.
        // The same as A + k*(P - A) with A = 250 active pages: 250 + 4*750 = 3250. rho = 1000/3250.
        var tax = new IdleMemoryTax(0.75);

        Assert.Equal(1000.0 / 3250, tax.AdjustedSharesPerPage(1000, 1000, 0.25), 15);
        Assert.Equal(3250, tax.CostOfPages(1000, 250));
        Assert.Equal(1000.0 / 3250, tax.AdjustedSharesPerPageWithActivePages(1000, 1000, 250), 15);
    }

    [Fact]
    public void Without_the_tax_rho_is_plain_shares_per_page()
    {
        // tau = 0: k = 1, so rho = S/P whatever f: 1000/500 = 2.
        Assert.Equal(2, IdleMemoryTax.None.AdjustedSharesPerPage(1000, 500, 0));
        Assert.Equal(2, IdleMemoryTax.None.AdjustedSharesPerPage(1000, 500, 1));
        Assert.Equal(IdleMemoryTax.None, default);
    }

    [Fact]
    public void Below_the_working_set_every_page_is_active()
    {
        // 100 pages held, 250 active: all 100 are active, cost 100 (no tax).
        Assert.Equal(100, new IdleMemoryTax(0.75).CostOfPages(100, 250));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(-0.01)]
    [InlineData(double.NaN)]
    public void A_rate_outside_zero_to_one_is_rejected_naming_the_field(double tau)
    {
        var error = Assert.Throws<ArgumentException>(() => new IdleMemoryTax(tau));

        Assert.Contains("Idle memory tax rate (Tau)", error.Message, StringComparison.Ordinal);
    }
}
