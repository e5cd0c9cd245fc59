/*
 * Whether each VM of a scenario can hold its guest and its workload: checks SimulatedHost.Validate makes
 * before anything runs, so that a scenario the simulator cannot run is refused in one line per problem
 * naming the VM, instead of failing at the VM's power-on (or growing the simulator's own memory with
 * the workload: per-page state for a 1 TiB working set in a 64 MiB VM is gigabytes).
 *   1. The VM holds its guest kernel: memoryMB is more than the pages its image's kernel takes at boot.
 *   2. Anonymous memory a workload asks for (a toucher's largest working set, a compute job's data,
 *      a zeroing or network workload's buffers, a file server's client processes) fits in what the
 *      guest can hold: its memory less its kernel, plus its own swap area. A real guest would kill
 *      such a workload (out of memory); a working set above the VM's memory alone is allowed, since a
 *      guest that pages to its own disk is what double paging is about.
 *   3. A file server's file set is at most MaxFileSetPerMemory times the VM's memory: the file set
 *      lives on the guest's disk and may well exceed its memory (the page cache holds what it can),
 *      but the simulator keeps state per block, and beyond that almost every read is a disk read.
 *      It is at least one file (FileServerOptions.PagesPerFile): a server with no file to serve has
 *      nothing to do.
 *   4. The workload the VM will build at power-on accepts its options (anything the checks above
 *      miss is still refused here, naming the VM, rather than at power-on in the middle of the run).
 */
using System.Globalization;
using Memvisor.Core.Memory;
using Memvisor.Scenarios;
using Memvisor.Simulation.Guests;
using Memvisor.Simulation.Workloads;

namespace Memvisor.Simulation;

/// <summary>Checks that each VM can hold its guest kernel and its workload.</summary>
internal static class GuestFit
{
    /// <summary>A file server's file set may be at most this many times its VM's memory.</summary>
    public const int MaxFileSetPerMemory = 64;

    /// <summary>Adds one line per problem of the <paramref name="index"/>-th VM of <paramref name="scenario"/> to <paramref name="errors"/>.</summary>
    public static void Check(Scenario scenario, int index, List<string> errors)
    {
        var spec = scenario.Vms[index];
        var at = $"vms[{index}] ('{spec.Name}')";
        var guestPages = PageGeometry.PagesFromMegabytes(spec.MemoryMB);
        GuestOsOptions options;
        try
        {
            options = GuestCatalog.Options(spec, scenario.Seed, index, scenario.Latencies);
            options.ImageOrDefault.Validate();
        }
        catch (ArgumentException)
        {
            // The image itself is invalid: SimulatedHost.Validate's other checks say so.
            return;
        }

        var image = options.ImageOrDefault;
        if (guestPages > int.MaxValue)
        {
            return;
        }

        var bootPages = image.BootPages((int)guestPages);
        if (bootPages >= guestPages)
        {
            errors.Add(Text(
                $"{at}.memoryMB: {spec.MemoryMB} MiB ({guestPages} pages) is smaller than its guest's kernel ({Flavour(spec)} image '{image.Name}' takes {bootPages} pages at boot); expected at least {MB(SmallestGuestPages(image))} MiB."));
            return;
        }

        var capacityPages = guestPages - bootPages + (options.SwapPages ?? guestPages);
        var capacity = $"what guest '{spec.Name}' can hold: {MB(guestPages)} MiB less {MB(bootPages)} MiB of kernel, plus {MB(options.SwapPages ?? guestPages)} MiB of guest swap = {MB(capacityPages)} MiB";
        var w = spec.Workload;
        foreach (var (field, value, megabytes) in AnonymousSizes(w))
        {
            if (Pages(megabytes) > capacityPages)
            {
                errors.Add($"{at}.workload.{field}: {value} for a {ScenarioNames.Of(w.Kind)} workload is more than {capacity}; expected at most {MB(capacityPages)} MiB.");
            }
        }

        if (w.Kind == WorkloadKind.FileServer && Pages(w.FileSetMB) > MaxFileSetPerMemory * guestPages)
        {
            errors.Add(Text(
                $"{at}.workload.fileSetMB: {w.FileSetMB} MiB is more than {MaxFileSetPerMemory} times the VM's memory ({MB(guestPages)} MiB); expected at most {MB(MaxFileSetPerMemory * guestPages)}."));
            return;
        }

        var pagesPerFile = new FileServerOptions().PagesPerFile;
        if (w.Kind == WorkloadKind.FileServer && PageGeometry.PagesFromMegabytes(w.FileSetMB) < pagesPerFile)
        {
            errors.Add(Text(
                $"{at}.workload.fileSetMB: {w.FileSetMB} MiB is less than one file of the file server ({pagesPerFile} pages); expected at least {PageGeometry.MegabytesFromPages(pagesPerFile)} MiB."));
            return;
        }

        try
        {
            _ = GuestCatalog.Workload(w);
        }
        catch (ArgumentException e)
        {
            errors.Add($"{at}.workload: {e.Message}");
        }
    }

    /// <summary>The anonymous memory each of a workload's size fields asks for: the field, its value as text, MiB.</summary>
    private static IEnumerable<(string Field, string Value, double MB)> AnonymousSizes(WorkloadSpec w)
    {
        switch (w.Kind)
        {
            case WorkloadKind.Toucher:
                yield return ("workingSetMB", Text($"{w.WorkingSetMB} MiB"), w.WorkingSetMB);
                for (var i = 0; i < w.Phases.Count; i++)
                {
                    yield return ($"phases[{i}].workingSetMB", Text($"{w.Phases[i].WorkingSetMB} MiB"), w.Phases[i].WorkingSetMB);
                }

                break;
            case WorkloadKind.Compute or WorkloadKind.Zeroing or WorkloadKind.Network:
                yield return ("workingSetMB", Text($"{w.WorkingSetMB} MiB"), w.WorkingSetMB);
                break;
            case WorkloadKind.FileServer:
                // Each client is a process of its own (FileServerOptions.ProcessPagesPerClient).
                var perClient = new FileServerOptions().ProcessPagesPerClient;
                var total = PageGeometry.MegabytesFromPages((long)w.Clients * perClient);
                yield return ("clients", Text($"{w.Clients} clients ({MB(perClient)} MiB of process memory each: {total} MiB)"), total);
                break;
        }
    }

    /// <summary>The fewest guest pages that hold <paramref name="image"/>'s kernel with a page to spare.</summary>
    private static long SmallestGuestPages(Images.GuestImage image)
    {
        var pages = image.KernelPages + 1;
        while (image.BootPages(pages) >= pages)
        {
            pages++;
        }

        return pages;
    }

    private static string Flavour(VmSpec spec) => ScenarioNames.Of(spec.Guest);

    private static long Pages(double megabytes) => Math.Max(1, PageGeometry.PagesFromMegabytes(megabytes));

    private static string MB(long pages) => Math.Round(PageGeometry.MegabytesFromPages(pages), 2).ToString(CultureInfo.InvariantCulture);

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
