/*
 * The swap device contract (ISwapDevice), as Core's SwapSpace relies on it:
 *   1. Bytes written at a byte offset read back unchanged from it, however writes and reads are
 *      batched (one call for a run of pages, or one per page), in any order, at any distance.
 *   2. A write replaces what was at its offset and nothing else.
 *   3. A read that reaches past everything written fails with an IOException (SwapSpace reports
 *      IOExceptions as swap errors; any other exception would be taken for a bug).
 *   4. A negative offset is refused with ArgumentOutOfRangeException.
 *   5. A device that cannot store (a full disk) fails the write with an IOException.
 *   6. A disposed device refuses every call with ObjectDisposedException.
 *   7. It has a name, for error messages.
 */
using Memvisor.Core.Memory;
using Memvisor.Core.Ports;

namespace Memvisor.Testing.Contracts;

/// <summary>What every <see cref="ISwapDevice"/> must do.</summary>
public abstract class SwapDeviceContract
{
    private const int Page = PageGeometry.PageSizeBytes;

    /// <summary>A new, empty device.</summary>
    protected abstract ISwapDevice Create();

    /// <summary>A device whose writes fail as a full disk's do, or null when the substrate cannot make one.</summary>
    protected abstract ISwapDevice? CreateFull();

    [Fact]
    public void It_has_a_name_for_error_messages()
    {
        using var device = Create();
        Assert.False(string.IsNullOrWhiteSpace(device.Name));
    }

    [Fact]
    public void A_page_written_at_an_offset_reads_back_unchanged()
    {
        using var device = Create();
        device.Write(3L * Page, TestHost.Pattern(1));

        Assert.Equal(TestHost.Pattern(1), ReadPages(device, 3, 1));
    }

    [Fact]
    public void Pages_written_in_one_batch_read_back_one_by_one_and_the_other_way_round()
    {
        using var device = Create();
        device.Write(10L * Page, Concat(1, 2, 3, 4));
        for (var p = 0; p < 3; p++)
        {
            device.Write((20L + p) * Page, TestHost.Pattern(10 + p));
        }

        for (var p = 0; p < 4; p++)
        {
            Assert.Equal(TestHost.Pattern(1 + p), ReadPages(device, 10 + p, 1));
        }

        Assert.Equal(Concat(10, 11, 12), ReadPages(device, 20, 3));
    }

    [Fact]
    public void A_write_replaces_what_was_at_its_offset_and_nothing_else()
    {
        using var device = Create();
        device.Write(0, Concat(1, 2, 3));
        device.Write(1L * Page, TestHost.Pattern(9));

        Assert.Equal(Concat(1, 9, 3), ReadPages(device, 0, 3));
    }

    [Fact]
    public void Pages_can_be_written_in_any_order_far_apart()
    {
        using var device = Create();
        device.Write(4096L * Page, TestHost.Pattern(2));
        device.Write(0, TestHost.Pattern(1));

        Assert.Equal(TestHost.Pattern(1), ReadPages(device, 0, 1));
        Assert.Equal(TestHost.Pattern(2), ReadPages(device, 4096, 1));
    }

    [Fact]
    public void A_read_past_everything_written_fails_with_an_io_exception()
    {
        using var device = Create();
        device.Write(0, Concat(1, 2));

        Assert.ThrowsAny<IOException>(() => ReadPages(device, 5, 1));
        Assert.ThrowsAny<IOException>(() => ReadPages(device, 1, 2));
    }

    [Fact]
    public void A_negative_offset_is_refused()
    {
        using var device = Create();
        Assert.Throws<ArgumentOutOfRangeException>(() => device.Write(-Page, TestHost.Pattern(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => device.Read(-Page, new byte[Page]));
    }

    [Fact]
    public void A_full_device_fails_the_write_with_an_io_exception()
    {
        using var device = CreateFull();
        Assert.SkipWhen(device is null, "this substrate cannot make a full device");

        Assert.ThrowsAny<IOException>(() => device!.Write(0, TestHost.Pattern(1)));
    }

    [Fact]
    public void A_disposed_device_refuses_every_call()
    {
        var device = Create();
        device.Write(0, TestHost.Pattern(1));
        device.Dispose();

        Assert.Throws<ObjectDisposedException>(() => device.Write(0, TestHost.Pattern(1)));
        Assert.Throws<ObjectDisposedException>(() => device.Read(0, new byte[Page]));
    }

    private static byte[] ReadPages(ISwapDevice device, long firstSlot, int pages)
    {
        var bytes = new byte[pages * Page];
        device.Read(firstSlot * Page, bytes);
        return bytes;
    }

    private static byte[] Concat(params int[] seeds) => [.. seeds.SelectMany(TestHost.Pattern)];
}
