/*
 * The reference for MinFundingRevocation: min-funding revocation run literally, one page at a time
 * (paper §5.1). Every VM starts at max; while the targets add up to more than the available pages,
 * one page is revoked from the VM above its min with the smallest adjusted shares-per-page ratio
 * (lowest index on ties). O((sum max - available) * n): for tests and oracles, not for the host.
 */
namespace Memvisor.Core.Allocation;

/// <summary>Min-funding revocation one page at a time: the definition the fast computation is checked against.</summary>
internal static class PageByPageRevocation
{
    /// <summary>Writes the targets into <paramref name="targets"/> and returns their sum.</summary>
    public static long ComputeTargets(IdleMemoryTax tax, ReadOnlySpan<VmAllocationInput> vms, long availablePages, Span<int> targets)
    {
        long total = 0;
        for (var i = 0; i < vms.Length; i++)
        {
            vms[i].Validate();
            targets[i] = vms[i].MaxPages;
            total += targets[i];
        }

        while (total > availablePages)
        {
            var victim = -1;
            var smallest = double.PositiveInfinity;
            for (var i = 0; i < vms.Length; i++)
            {
                var rho = MinFundingRevocation.Value(tax, vms[i], targets[i]);
                if (targets[i] > vms[i].MinPages && (victim < 0 || rho < smallest))
                {
                    victim = i;
                    smallest = rho;
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
}
