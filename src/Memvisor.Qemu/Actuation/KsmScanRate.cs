/*
 * The share scan rate (paper §4.2: ESX scans a configurable number of pages per second for sharing
 * candidates) set on Linux KSM, the sharing mechanism of QEMU guests.
 *
 * ksmd scans pages_to_scan pages, then sleeps sleep_millisecs, in a loop. A rate of R pages per
 * second is set as sleep 20 ms and pages_to_scan = R x 0.02 (at least 1): R is then the upper bound
 * of ksmd's rate (the scan itself takes time, so the real rate is lower on a busy host). A rate of 0
 * stops ksmd without unmerging (run=0: pages merged so far stay merged). Knobs are written only when
 * they change, always through a KsmController, which saved every knob before its first change and
 * restores them all on Dispose.
 */
using Memvisor.Linux.Ksm;

namespace Memvisor.Qemu.Actuation;

/// <summary>Sets KSM's scan rate in pages per second.</summary>
public sealed class KsmScanRate : IDisposable
{
    /// <summary>The sleep between ksmd batches.</summary>
    public const int SleepMilliseconds = 20;

    /// <summary>The highest rate set (pages_to_scan 2000 per 20 ms).</summary>
    public const int MaxPagesPerSecond = 100_000;

    private readonly KsmController _controller;
    private (int PagesToScan, bool Running)? _current;

    /// <summary>Drives KSM through <paramref name="controller"/> (which restores every knob when this is disposed).</summary>
    public KsmScanRate(KsmController controller)
    {
        ArgumentNullException.ThrowIfNull(controller);
        _controller = controller;
    }

    /// <summary>Journals of killed runs the controller restored when it started, one line each (KsmController.Recovered).</summary>
    public IReadOnlyList<string> Recovered => _controller.Recovered;

    /// <summary>The rate last set, in pages per second.</summary>
    public int PagesPerSecond { get; private set; }

    /// <summary>The pages_to_scan that gives <paramref name="pagesPerSecond"/> with a 20 ms sleep.</summary>
    public static int PagesToScanFor(int pagesPerSecond) =>
        Math.Max(1, (int)Math.Round(Math.Clamp(pagesPerSecond, 0, MaxPagesPerSecond) * SleepMilliseconds / 1000.0));

    /// <summary>Sets the rate (0 stops ksmd, keeping merged pages merged); writes only the knobs that change.</summary>
    public void Set(int pagesPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pagesPerSecond);
        var wanted = (PagesToScan: PagesToScanFor(pagesPerSecond), Running: pagesPerSecond > 0);
        if (_current == wanted)
        {
            PagesPerSecond = pagesPerSecond;
            return;
        }

        if (wanted.Running)
        {
            if (_current is not { Running: true } || _current.Value.PagesToScan != wanted.PagesToScan)
            {
                // Rate before run, so that ksmd never runs with a mix of old and new settings.
                _controller.Set(KsmKnob.PagesToScan, wanted.PagesToScan);
                _controller.Set(KsmKnob.SleepMilliseconds, SleepMilliseconds);
            }

            _controller.Set(KsmKnob.Run, 1);
        }
        else
        {
            _controller.Set(KsmKnob.Run, 0);
        }

        _current = wanted;
        PagesPerSecond = pagesPerSecond;
    }

    /// <summary>Restores every KSM knob as it was found.</summary>
    public void Dispose() => _controller.Dispose();
}
