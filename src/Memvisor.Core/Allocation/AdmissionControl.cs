/*
 * Admission control (paper §6.1). A VM powers on only if the host can keep its promises to it: its
 * min (guaranteed even under overcommitment) plus its overhead memory (frame buffer, pmap, shadow
 * page tables) must fit in the machine memory not yet reserved by running VMs, and the swap area
 * must have room for max - min, so that every page above min can always be preserved on disk
 * if it has to be reclaimed. The memory the host keeps free for itself (its low threshold, below which
 * it blocks VMs: HostReservations.KeptFreePages) is not reservable: reservations that ate into it would
 * leave the host in the low state with nothing to give any VM, and a VM whose overhead filled the host
 * could not fault in a single page. Pure arithmetic over the host's reservations; the memory manager
 * keeps the reservations and makes them.
 */
using System.Globalization;
using System.Text;
using Memvisor.Core.Memory;

namespace Memvisor.Core.Allocation;

/// <summary>What a host has already promised to its running VMs.</summary>
/// <param name="MachinePages">Machine memory in pages.</param>
/// <param name="ReservedPages">Sum of min + overhead over the running VMs.</param>
/// <param name="SwapCapacityPages">Swap area in pages.</param>
/// <param name="SwapReservedPages">Sum of max - min over the running VMs.</param>
public readonly record struct HostReservations(long MachinePages, long ReservedPages, long SwapCapacityPages, long SwapReservedPages)
{
    /// <summary>Machine pages the host keeps free for itself and never reserves (the policy's low threshold); 0 by default.</summary>
    public long KeptFreePages { get; init; }

    /// <summary>Machine pages not reserved and not kept free (never negative).</summary>
    public long UnreservedPages => Math.Max(0, MachinePages - KeptFreePages - ReservedPages);

    /// <summary>Swap pages not reserved (never negative).</summary>
    public long UnreservedSwapPages => Math.Max(0, SwapCapacityPages - SwapReservedPages);
}

/// <summary>The outcome of admission control for one VM.</summary>
/// <param name="Admitted">True if the VM may power on.</param>
/// <param name="MemoryShortPages">Machine pages missing for min + overhead (0 if enough).</param>
/// <param name="SwapShortPages">Swap pages missing for max - min (0 if enough).</param>
/// <param name="Message">A sentence naming the VM: what it reserves, or what is short and by how much.</param>
public readonly record struct AdmissionDecision(bool Admitted, long MemoryShortPages, long SwapShortPages, string Message);

/// <summary>Decides whether a VM may power on (paper §6.1).</summary>
public static class AdmissionControl
{
    /// <summary>Admits <paramref name="vm"/> if unreserved memory covers min + overhead and unreserved swap covers max - min.</summary>
    public static AdmissionDecision Evaluate(HostReservations host, VmMemoryConfig vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        vm.Validate();
        if (host.MachinePages < 0 || host.ReservedPages < 0 || host.SwapCapacityPages < 0 || host.SwapReservedPages < 0 || host.KeptFreePages < 0)
        {
            throw new ArgumentException($"Host reservations must not be negative: {host}.", nameof(host));
        }

        long memoryNeeded = (long)vm.MinPages + vm.OverheadPages;
        long swapNeeded = (long)vm.MaxPages - vm.MinPages;
        var memoryShort = Math.Max(0, memoryNeeded - host.UnreservedPages);
        var swapShort = Math.Max(0, swapNeeded - host.UnreservedSwapPages);
        if (memoryShort == 0 && swapShort == 0)
        {
            return new AdmissionDecision(true, 0, 0, string.Create(
                CultureInfo.InvariantCulture,
                $"VM '{vm.Name}' admitted: reserves {Size(memoryNeeded)} of machine memory (min {Size(vm.MinPages)} + overhead {Size(vm.OverheadPages)}) and {Size(swapNeeded)} of swap (max - min)."));
        }

        var message = new StringBuilder();
        message.Append(CultureInfo.InvariantCulture, $"VM '{vm.Name}' cannot power on:");
        if (memoryShort > 0)
        {
            message.Append(
                CultureInfo.InvariantCulture,
                $" machine memory is {Size(memoryShort)} short (min {Size(vm.MinPages)} + overhead {Size(vm.OverheadPages)} = {Size(memoryNeeded)} needed, {Size(host.UnreservedPages)} unreserved");
            message.Append(host.KeptFreePages > 0 ? string.Create(CultureInfo.InvariantCulture, $" of {Size(host.MachinePages)}, of which the host keeps {Size(host.KeptFreePages)} free)") : ")");
        }

        if (swapShort > 0)
        {
            message.Append(memoryShort > 0 ? ";" : string.Empty);
            message.Append(
                CultureInfo.InvariantCulture,
                $" swap is {Size(swapShort)} short (max - min = {Size(swapNeeded)} needed, {Size(host.UnreservedSwapPages)} unreserved)");
        }

        message.Append('.');
        return new AdmissionDecision(false, memoryShort, swapShort, message.ToString());
    }

    /// <summary>"100 MB (25600 pages)": MB with up to two decimals ("&lt;0.01 MB" for a few pages), then the exact pages.</summary>
    internal static string Size(long pages)
    {
        var megabytes = PageGeometry.MegabytesFromPages(pages);
        var shown = pages > 0 && megabytes < 0.005 ? "<0.01" : megabytes.ToString("0.##", CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture, $"{shown} MB ({pages} {(pages == 1 ? "page" : "pages")})");
    }
}
