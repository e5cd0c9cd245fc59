namespace Memvisor.Core.Host.Owning;

/// <summary>
/// An owning substrate's model of how long its swap device takes (the simulator's queue): the policy pages
/// only what the device can write within a tick, and every page-out is charged to the device.
/// </summary>
public interface ISwapDeviceTiming
{
    /// <summary>Pages one write submitted now could complete within <paramref name="horizon"/>, after what the device has queued.</summary>
    int WritablePages(TimeSpan horizon);

    /// <summary>A clustered write of <paramref name="pages"/> pages is submitted now.</summary>
    void SubmitWrite(int pages);
}
