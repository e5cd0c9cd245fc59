using Memvisor.Scenarios;
using Memvisor.Simulation.Guests;
using Memvisor.Simulation.Images;
using static Memvisor.Simulation.Tests.Guests.GuestTestSupport;
using Memvisor.Testing;

namespace Memvisor.Simulation.Tests.Guests;

public sealed class GuestImageTests
{
    [Fact]
    public void Page_contents_are_fixed_by_their_token_and_distinct_tokens_differ()
    {
        var a = new byte[4096];
        var b = new byte[4096];
        PageContent.Fill(a, 12345);
        PageContent.Fill(b, 12345);
        Assert.Equal(a, b);
        Assert.True(PageContent.Matches(a, 12345));
        Assert.False(PageContent.Matches(a, 12346));
        Assert.False(PageContent.Matches(a, PageContent.Zero));

        PageContent.Fill(b, 12346);
        var differing = 0;
        for (var i = 0; i < 4096; i += 8)
        {
            differing += BitConverter.ToUInt64(a, i) != BitConverter.ToUInt64(b, i) ? 1 : 0;
        }

        Assert.Equal(512, differing);

        a[4095] ^= 1;
        Assert.False(PageContent.Matches(a, 12345));
        PageContent.Fill(a, PageContent.Zero);
        Assert.All(a, x => Assert.Equal(0, x));
    }

    [Fact]
    public void A_page_filled_on_a_cache_line_boundary_holds_the_same_bytes_as_one_filled_anywhere_else()
    {
        // Machine pages (4 KiB-aligned) are filled with streaming stores; other buffers word by word: at
        // 64 successive offsets of one buffer, at most one lies on a cache line boundary.
        using var memory = new Simulation.Memory.NativeMachineMemory(4);
        var aligned = memory.GetPage(new Core.Memory.Mpn(1));
        var buffer = new byte[4096 + 64];
        foreach (var token in new[] { 1UL, 12345UL, PageContent.Mix(7), ulong.MaxValue - 1 })
        {
            PageContent.Fill(aligned, token);
            Assert.True(PageContent.Matches(aligned, token));
            for (var offset = 0; offset < 64; offset++)
            {
                var page = buffer.AsSpan(offset, 4096);
                PageContent.Fill(page, token);
                Assert.True(aligned.SequenceEqual(page));
            }
        }
    }

    [Fact]
    public void Vms_booted_from_the_same_image_hold_identical_kernel_pages_and_the_host_shares_them_by_content()
    {
        using var host = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        var a = Guest(host.PowerOn("a", 512), GuestFlavour.Linux, null, seed: 1);
        var b = Guest(host.PowerOn("b", 512), GuestFlavour.Windows, null, seed: 2);
        var other = Guest(host.PowerOn("other", 512), GuestFlavour.Linux, null, seed: 1, image: Tiny with { Name = "other" });
        a.Boot();
        b.Boot();
        other.Boot();

        for (var p = 0u; p < Tiny.KernelPages; p++)
        {
            var ppn = new Core.Memory.Ppn(p);
            Assert.True(a.Memory.PageForRead(ppn).SequenceEqual(b.Memory.PageForRead(ppn)));
            // Another image: the same page only where both images have a zero page.
            var bothZero = a.RecordedContentOf(ppn) == PageContent.Zero && other.RecordedContentOf(ppn) == PageContent.Zero;
            Assert.Equal(bothZero, a.Memory.PageForRead(ppn).SequenceEqual(other.Memory.PageForRead(ppn)));
        }

        // Kernel structures (1% of 512 pages, rounded up: 6 pages after the 64 kernel pages) are each VM's own.
        for (var p = 64u; p < 70; p++)
        {
            Assert.False(a.Memory.PageForRead(new(p)).SequenceEqual(b.Memory.PageForRead(new(p))));
        }

        // Scanning every booted page of a, then of b: each kernel page of b finds a's copy (a's own zero
        // pages find each other), so all 64 kernel pages of each VM end up shared; the 6 structure pages do not.
        for (var p = 0u; p < 70; p++)
        {
            host.Manager.TryShare(a.Id, new(p));
        }

        for (var p = 0u; p < 70; p++)
        {
            host.Manager.TryShare(b.Id, new(p));
        }

        Assert.Equal(64, host.Manager.GetVmStats(a.Id).SharedPages);
        Assert.Equal(64, host.Manager.GetVmStats(b.Id).SharedPages);
        Assert.Equal(6, host.Manager.GetVmStats(b.Id).PrivatePages);
    }

    [Fact]
    public void About_the_configured_share_of_kernel_pages_is_zero()
    {
        var image = GuestImage.Linux() with { KernelPages = 10_000, KernelZeroPercent = 10 };
        var zero = Enumerable.Range(0, 10_000).Count(p => image.Token(GuestImage.File.Kernel, p) == PageContent.Zero);
        // 10% of 10,000 = 1,000; a binomial standard deviation is sqrt(10,000 * 0.1 * 0.9) = 30: allow 5 of them.
        Assert.InRange(zero, 850, 1150);
        Assert.Equal(0, Enumerable.Range(0, 1000).Count(p => image.Token(GuestImage.File.Library, p) == PageContent.Zero));
    }
}
