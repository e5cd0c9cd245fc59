/*
 * An independent analytic model of min-funding revocation with the idle memory tax, written from the
 * paper's formula and nothing of Core's (no MinFundingRevocation, no IdleMemoryTax, no
 * PageByPageRevocation), to check the policy's steady state against (issue 13's acceptance).
 *
 * VM i has shares S_i, min_i, max_i and a working set of W_i pages that it keeps touching. Holding P
 * pages, its active fraction is f = min(1, W_i / P) and its adjusted shares-per-page ratio is
 *     rho_i(P) = S_i / (P * (f + k (1 - f))),   k = 1 / (1 - tau)          (paper §5.2)
 * Reclamation takes from the VM of least rho until the targets fit the pages the host gives VMs (machine
 * pages less overhead and the free target); so in steady state every VM strictly between its min and its
 * max has the same rho, a VM at its min has no less, a VM at its max no more. Here the level is found by
 * bisection on the cost per share c = 1/rho, at which a VM holds the P where P (f + k (1 - f)) = S c,
 * clamped to [min, max]; the pages held are non-decreasing in c, so the level where they sum to the
 * available pages is unique.
 */
namespace Memvisor.Testing;

/// <summary>The paper's steady state of min-funding revocation with the idle tax, computed independently of Core.</summary>
public static class AnalyticRevocationModel
{
    /// <summary>Pages per VM in steady state (continuous), sharing <paramref name="availablePages"/>.</summary>
    public static double[] Targets(ModelVm[] vms, double tau, double availablePages)
    {
        ArgumentNullException.ThrowIfNull(vms);
        var k = 1 / (1 - tau);
        if (vms.Sum(v => (double)v.MaxPages) <= availablePages)
        {
            return [.. vms.Select(v => (double)v.MaxPages)];
        }

        // Pages a VM holds at cost per share c: the P with P (f + k (1 - f)) = S c, f = min(1, W / P).
        double Held(ModelVm v, double c)
        {
            var cost = v.Shares * c;
            var pages = cost <= v.WorkingSetPages ? cost : v.WorkingSetPages + ((cost - v.WorkingSetPages) / k);
            return Math.Clamp(pages, v.MinPages, v.MaxPages);
        }

        double low = 0;
        var high = vms.Max(v => k * v.MaxPages / v.Shares);
        for (var i = 0; i < 200; i++)
        {
            var mid = (low + high) / 2;
            if (vms.Sum(v => Held(v, mid)) < availablePages)
            {
                low = mid;
            }
            else
            {
                high = mid;
            }
        }

        return [.. vms.Select(v => Held(v, (low + high) / 2))];
    }
}

/// <summary>One VM of the model: shares, min, max and the pages it keeps touching.</summary>
public sealed record ModelVm(double Shares, double MinPages, double MaxPages, double WorkingSetPages);
