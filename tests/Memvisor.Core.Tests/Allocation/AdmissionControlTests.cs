/*
 * Admission control (paper §6.1), worked in MB (1 MB = 256 pages). Host: 1 GB = 262144 pages of
 * machine memory, 800 MB = 204800 pages reserved (unreserved 224 MB = 57344 pages); 512 MB = 131072
 * pages of swap, 400 MB = 102400 pages reserved (unreserved 112 MB = 28672 pages).
 */
using Memvisor.Core.Allocation;
using Memvisor.Core.Memory;

namespace Memvisor.Core.Tests.Allocation;

public class AdmissionControlTests
{
    private const int Mb = 256;
    private static readonly HostReservations Host = new(1024 * Mb, 800 * Mb, 512 * Mb, 400 * Mb);

    private static VmMemoryConfig Vm(int minMb, int maxMb, int overheadMb) =>
        new() { Name = "web", MinPages = minMb * Mb, MaxPages = maxMb * Mb, OverheadPages = overheadMb * Mb };

    [Fact]
    public void A_vm_whose_reservations_fit_exactly_is_admitted()
    {
        // min 192 + overhead 32 = 224 MB = unreserved memory; max - min = 300 - 192 = 108 MB <= 112 MB of swap.
        var decision = AdmissionControl.Evaluate(Host, Vm(192, 300, 32));

        Assert.True(decision.Admitted);
        Assert.Contains("VM 'web' admitted", decision.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Too_little_unreserved_memory_is_refused_with_the_shortfall()
    {
        // min 256 + overhead 32 = 288 MB = 73728 pages needed, 224 MB unreserved: 64 MB = 16384 pages short.
        // Swap: max - min = 0.
        var decision = AdmissionControl.Evaluate(Host, Vm(256, 256, 32));

        Assert.False(decision.Admitted);
        Assert.Equal(64 * Mb, decision.MemoryShortPages);
        Assert.Equal(0, decision.SwapShortPages);
        Assert.Contains("VM 'web' cannot power on", decision.Message, StringComparison.Ordinal);
        Assert.Contains("machine memory is 64 MB (16384 pages) short", decision.Message, StringComparison.Ordinal);
        Assert.Contains("288 MB (73728 pages) needed, 224 MB (57344 pages) unreserved", decision.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("swap", decision.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Too_little_swap_is_refused_with_the_shortfall()
    {
        // max - min = 512 - 128 = 384 MB = 98304 pages needed, 112 MB unreserved: 272 MB = 69632 pages short.
        // Memory: 128 + 32 = 160 MB fits in 224 MB.
        var decision = AdmissionControl.Evaluate(Host, Vm(128, 512, 32));

        Assert.False(decision.Admitted);
        Assert.Equal(0, decision.MemoryShortPages);
        Assert.Equal(272 * Mb, decision.SwapShortPages);
        Assert.Contains("VM 'web' cannot power on: swap is 272 MB (69632 pages) short", decision.Message, StringComparison.Ordinal);
        Assert.Contains("384 MB (98304 pages) needed, 112 MB (28672 pages) unreserved", decision.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Both_shortfalls_are_reported_together()
    {
        // Memory: 256 + 32 = 288 MB, 64 MB short. Swap: 512 - 256 = 256 MB, 256 - 112 = 144 MB = 36864 pages short.
        var decision = AdmissionControl.Evaluate(Host, Vm(256, 512, 32));

        Assert.False(decision.Admitted);
        Assert.Contains("machine memory is 64 MB (16384 pages) short", decision.Message, StringComparison.Ordinal);
        Assert.Contains("swap is 144 MB (36864 pages) short", decision.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fractional_megabytes_are_shown_with_their_pages()
    {
        // 1 page over: 1/256 MB = 0.0039 MB, too small for two decimals: "<0.01 MB" and the exact page count.
        var host = new HostReservations(1000, 0, 0, 0);
        var decision = AdmissionControl.Evaluate(host, new VmMemoryConfig { Name = "tiny", MinPages = 1001, MaxPages = 1001 });

        Assert.Contains("machine memory is <0.01 MB (1 page) short", decision.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pages_the_host_keeps_free_are_not_reservable()
    {
        // 1000 pages, 10 kept free (the low threshold): min 0 + overhead 991 leaves 9 free and is refused
        // by 1 page; 990 leaves the 10 and is admitted. Without the kept pages both fit.
        var host = new HostReservations(1000, 0, 1000, 0) { KeptFreePages = 10 };
        var refused = AdmissionControl.Evaluate(host, new VmMemoryConfig { Name = "fat", MinPages = 0, MaxPages = 100, OverheadPages = 991 });
        var admitted = AdmissionControl.Evaluate(host, new VmMemoryConfig { Name = "fat", MinPages = 0, MaxPages = 100, OverheadPages = 990 });

        Assert.False(refused.Admitted);
        Assert.Equal(1, refused.MemoryShortPages);
        Assert.Contains("990 pages) unreserved of 3.91 MB (1000 pages), of which the host keeps 0.04 MB (10 pages) free)", refused.Message, StringComparison.Ordinal);
        Assert.True(admitted.Admitted);
        Assert.True(AdmissionControl.Evaluate(host with { KeptFreePages = 0 }, new VmMemoryConfig { Name = "fat", MinPages = 0, MaxPages = 100, OverheadPages = 1000 }).Admitted);
    }
}
