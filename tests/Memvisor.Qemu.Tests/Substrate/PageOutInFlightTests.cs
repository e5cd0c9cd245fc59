/*
 * Host paging in flight: pages advised out count until RSS shows them gone, or until the expiry, so
 * that the policy does not page the same excess twice while the kernel is still writing it out.
 */
using Memvisor.Qemu.Substrate;

namespace Memvisor.Qemu.Tests.Substrate;

public sealed class PageOutInFlightTests
{
    [Fact]
    public void Advised_pages_count_until_RSS_falls_by_them()
    {
        var inFlight = new PageOutInFlight();
        inFlight.Advised(1000);

        inFlight.Observed(previousRssPages: 50_000, rssPages: 49_700, TimeSpan.FromSeconds(1));
        Assert.Equal(700, inFlight.Pages);
        inFlight.Observed(previousRssPages: 49_700, rssPages: 49_800, TimeSpan.FromSeconds(1));
        Assert.Equal(700, inFlight.Pages);
        inFlight.Observed(previousRssPages: 49_800, rssPages: 48_000, TimeSpan.FromSeconds(1));
        Assert.Equal(0, inFlight.Pages);
    }

    [Fact]
    public void Pages_the_kernel_never_writes_out_stop_counting_after_the_expiry()
    {
        var inFlight = new PageOutInFlight();
        inFlight.Advised(1000);

        inFlight.Observed(50_000, 50_000, PageOutInFlight.Expiry - TimeSpan.FromSeconds(1));
        Assert.Equal(1000, inFlight.Pages);
        inFlight.Observed(50_000, 50_000, TimeSpan.FromSeconds(1));
        Assert.Equal(0, inFlight.Pages);
    }
}
