/*
 * The idle memory tax (paper §5.2). Pure proportional share lets a VM with many shares hoard idle
 * memory; the tax charges more for an idle page than for an active one, so that idle pages are
 * reclaimed first. A VM with S shares, P allocated pages and active fraction f has the adjusted
 * shares-per-page ratio
 *
 *     rho = S / (P * (f + k * (1 - f))),    k = 1 / (1 - tau),    0 <= tau < 1,
 *
 * and min-funding revocation takes memory from the VM with the smallest rho. tau = 0 (k = 1) is pure
 * proportional share; tau -> 1 makes idle pages arbitrarily expensive. ESX's default is tau = 0.75
 * (k = 4). One tax rate applies to all VMs.
 *
 * The denominator is the VM's "cost" in page units. With A = f * P active pages,
 *
 *     P * (f + k * (1 - f)) = f*P + k * (P - f*P) = A + k * (P - A):
 *
 * an active page costs 1 and an idle page costs k. The allocation policy holds A fixed while it
 * varies P (the working set does not change because the allocation does), so for P below A every
 * allocated page is active and the cost is just P. That is CostOfPages(P, A) = min(P, A) + k*max(0, P - A).
 */
namespace Memvisor.Core.Allocation;

/// <summary>The idle memory tax at rate tau: an idle page costs k = 1/(1 - tau) times an active one.</summary>
public readonly record struct IdleMemoryTax
{
    /// <summary>The ESX default rate.</summary>
    public const double DefaultTau = 0.75;

    /// <summary>A tax at rate <paramref name="tau"/>; throws <see cref="ArgumentException"/> unless 0 &lt;= tau &lt; 1.</summary>
    public IdleMemoryTax(double tau)
    {
        Validate(tau, "Tau");
        Tau = tau;
    }

    /// <summary>No tax: pure proportional share. Also the value of <c>default(IdleMemoryTax)</c>.</summary>
    public static IdleMemoryTax None { get; } = new(0);

    /// <summary>The tax rate tau, in [0, 1).</summary>
    public double Tau { get; }

    /// <summary>k = 1 / (1 - tau): the cost of an idle page relative to an active one (4 at tau = 0.75).</summary>
    public double IdleCost => 1 / (1 - Tau);

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="field"/> unless 0 &lt;= tau &lt; 1.</summary>
    public static void Validate(double tau, string field)
    {
        if (!(tau >= 0 && tau < 1))
        {
            throw new ArgumentException($"Idle memory tax rate ({field}): {tau}; must be at least 0 and below 1 (0 is pure proportional share, 0.75 the ESX default).");
        }
    }

    /// <summary>
    /// The cost in page units of <paramref name="pages"/> allocated pages of which <paramref name="activePages"/>
    /// are active: min(P, A) + k * max(0, P - A).
    /// </summary>
    public double CostOfPages(double pages, double activePages) =>
        pages <= activePages ? pages : activePages + (IdleCost * (pages - activePages));

    /// <summary>
    /// rho = S / (P * (f + k * (1 - f))) with f the active fraction of the <paramref name="pages"/> allocated pages.
    /// Zero pages give +infinity (a VM with nothing allocated is never the victim).
    /// </summary>
    public double AdjustedSharesPerPage(double shares, double pages, double activeFraction) =>
        shares / (pages * (activeFraction + (IdleCost * (1 - activeFraction))));

    /// <summary>
    /// rho with the working set held fixed: S / CostOfPages(P, A), so f = A / P when P &gt;= A and f = 1 when P &lt; A.
    /// Zero pages give +infinity.
    /// </summary>
    public double AdjustedSharesPerPageWithActivePages(double shares, double pages, double activePages) =>
        shares / CostOfPages(pages, activePages);
}

/// <summary>A change of the idle memory tax rate during a run: from <paramref name="AtSeconds"/> of host time on, tau is <paramref name="Tau"/>.</summary>
/// <param name="AtSeconds">Seconds since the host started (the policy's clock).</param>
/// <param name="Tau">The new rate, in [0, 1).</param>
public readonly record struct IdleTaxChange(double AtSeconds, double Tau)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the change, its values and the rule, unless each change has a valid rate and a finite time not before 0 s, in increasing order of time.</summary>
    public static void Validate(IReadOnlyList<IdleTaxChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        for (var i = 0; i < changes.Count; i++)
        {
            var c = changes[i];
            IdleMemoryTax.Validate(c.Tau, $"IdleTaxChanges[{i}].Tau");
            if (!(c.AtSeconds >= 0 && double.IsFinite(c.AtSeconds)))
            {
                throw new ArgumentException($"Idle tax change {i}: at {c.AtSeconds} s; must be a finite time not before 0 s.");
            }

            if (i > 0 && c.AtSeconds <= changes[i - 1].AtSeconds)
            {
                throw new ArgumentException($"Idle tax change {i}: at {c.AtSeconds} s, not after change {i - 1} ({changes[i - 1].AtSeconds} s); changes must be in increasing order of time.");
            }
        }
    }
}
