/*
 * Host paging without host swap: a guest whose RAM is a shared mapping of a file on disk
 * (QemuGuestOptions.RamBackingFile) is paged out by GuestPager (victims written back to the file, then
 * dropped), the host really holds less of it (the file's page cache, not only the mapping's RSS), the
 * guest reads its pages back from the file (QEMU's major faults) and finds every one as it filled it
 * (the agent's touch=verify), and the file goes with the guest.
 */
using Memvisor.Qemu.GuestRam;
using Memvisor.Qemu.Launch;

namespace Memvisor.Qemu.Tests.RealGuests;

[Collection(RealGuestGroup.Name)]
public sealed class FileBackedRamTests
{
    private const long MiB = 1L << 20;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task File_backed_guest_RAM_is_paged_out_without_host_swap_and_read_back_intact()
    {
        RealGuestRequirements.SkipUnlessAvailable();
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper!;
        var guest = await QemuGuest.StartAsync(
            new QemuGuestOptions
            {
                Name = "file-ram",
                MemoryMiB = 192,
                Image = await RealGuestRequirements.ImageAsync(),
                RamBackingFile = true,
                Agent = new Dictionary<string, string> { ["mode"] = "toucher", ["alloc_mib"] = "96", ["phases"] = "96:0", ["fill"] = "unique", ["touch"] = "verify", ["order"] = "random" },
            },
            ct);
        await using (guest)
        {
            var mapping = guest.RamMapping;
            Assert.NotNull(mapping);
            Assert.Equal(guest.Files.RamFile, mapping.BackingFile);
            Assert.Equal(192 * MiB, mapping.SizeBytes);
            Assert.Null(GuestPager.WhyUnavailable(mapping));
            var running = await guest.WaitForReportAsync(r => r.State == AgentState.Running, Wait, ct);
            Assert.True(running is not null, $"the agent did not start: {guest.DiagnosticTail()}");

            var cachedBefore = mapping.ReadCachedBytes()!.Value;
            var rssBefore = mapping.ReadUsage()!.RssBytes;
            var pageInsBefore = QemuPageIns.Read(guest.Pid)!.Value;
            using var pager = GuestPager.Open(mapping, seed: 5);
            var advised = pager.PageOut(96 * MiB);
            var cachedAfter = mapping.ReadCachedBytes()!.Value;
            var rssAfter = mapping.ReadUsage()!.RssBytes;
            output.WriteLine(
                $"advised {advised / MiB} MiB: host holds {cachedBefore / MiB} -> {cachedAfter / MiB} MiB of the file (RSS {rssBefore / MiB} -> {rssAfter / MiB} MiB); " +
                $"reclaimed {pager.ReclaimedBytes / (double)MiB:0.0} MiB, written back first {pager.WrittenBackBytes / (double)MiB:0.0} MiB");

            Assert.Equal(96 * MiB, advised);
            Assert.True(cachedBefore >= 96 * MiB, $"the filled guest RAM is in the page cache ({cachedBefore / MiB} MiB)");
            Assert.True(pager.ReclaimedBytes >= 24 * MiB, $"the pager reclaimed only {pager.ReclaimedBytes / MiB} MiB");
            Assert.True(cachedAfter <= cachedBefore - (24 * MiB), $"the host still holds {cachedAfter / MiB} of {cachedBefore / MiB} MiB");

            // The agent keeps touching random pages of its 96 MiB, verifying each (about 150 a second under TCG):
            // a third of its pages' worth of touches reaches over a quarter of them, paged-out ones among them.
            var later = await guest.WaitForReportAsync(r => r.Work > running.Work + (running.AllocPages / 3), Wait, ct);
            Assert.True(later is not null, $"the workload stopped: {guest.DiagnosticTail()}");
            var pageIns = QemuPageIns.Read(guest.Pid)!.Value.Since(pageInsBefore);
            output.WriteLine($"after {later.Work - running.Work} verified touches: {later.BadPages} bad pages; QEMU {pageIns.MajorFaults} major faults, {pageIns.ReadBytes / (double)MiB:0.0} MiB read from disk; host holds {mapping.ReadCachedBytes() / MiB} MiB");
            Assert.Equal(0, later.BadPages);
            Assert.True(pageIns.MajorFaults > 0, "no page came back from the file");
            Assert.True(pageIns.ReadBytes > 0, "nothing was read from the file");
            Assert.False(guest.HasExited);
        }

        Assert.False(File.Exists(guest.Files.RamFile), "the RAM file outlived its guest");
    }
}
