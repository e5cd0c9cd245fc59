using Memvisor.Core.Balloon;
using Memvisor.Core.Memory;
using Memvisor.Core.Util;

namespace Memvisor.Testing;

/// <summary>
/// A well-behaved guest balloon driver: each poll reads the target and moves at most one batch toward
/// it, taking pages from the top of guest memory down (as a guest allocator that hands out free pages
/// would), and keeping only the pages the host accepted.
/// </summary>
public sealed class TestBalloonDriver
{
    private readonly BalloonChannel _channel;
    private readonly int _batchPages;
    private readonly List<Ppn> _balloon = [];
    private readonly bool[] _inBalloon;

    public TestBalloonDriver(BalloonChannel channel, int guestPages, int batchPages = 16)
    {
        _channel = channel;
        _batchPages = batchPages;
        _inBalloon = new bool[guestPages];
        channel.DriverStatus = BalloonDriverStatus.Active;
    }

    /// <summary>The pages the driver holds in its balloon.</summary>
    public IReadOnlyList<Ppn> Pages => _balloon;

    /// <summary>Whether <paramref name="ppn"/> is in the balloon (the guest leaves such pages alone).</summary>
    public bool Holds(Ppn ppn) => _inBalloon[ppn.Value];

    /// <summary>One poll; returns the pages the host accepted.</summary>
    public int Poll()
    {
        var target = _channel.TargetPages;
        if (_balloon.Count < target)
        {
            var batch = new List<Ppn>();
            for (var p = _inBalloon.Length - 1; p >= 0 && batch.Count < Math.Min(_batchPages, target - _balloon.Count); p--)
            {
                if (!_inBalloon[p])
                {
                    batch.Add(new Ppn((uint)p));
                }
            }

            var verdicts = new BalloonVerdict[batch.Count];
            var result = _channel.Inflate(_channel.Vm, batch.ToArray(), verdicts);
            for (var i = 0; i < batch.Count; i++)
            {
                if (verdicts[i] == BalloonVerdict.Accepted)
                {
                    _balloon.Add(batch[i]);
                    _inBalloon[batch[i].Value] = true;
                }
            }

            return result.Accepted;
        }

        if (_balloon.Count > target)
        {
            var count = Math.Min(_batchPages, _balloon.Count - target);
            var batch = _balloon.GetRange(_balloon.Count - count, count).ToArray();
            var result = _channel.Deflate(_channel.Vm, batch);

            // Accepted or not, the pages are the guest's again (a rejected one was not in the balloon).
            _balloon.RemoveRange(_balloon.Count - count, count);
            foreach (var ppn in batch)
            {
                _inBalloon[ppn.Value] = false;
            }

            return result.Accepted;
        }

        return 0;
    }

    /// <summary>Polls once a second until the balloon reaches its target; returns the polls it took.</summary>
    public int PollUntilAtTarget(ManualClock clock, int maxPolls = 1000)
    {
        for (var polls = 1; polls <= maxPolls; polls++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            Poll();
            if (_balloon.Count == _channel.TargetPages)
            {
                return polls;
            }
        }

        throw new InvalidOperationException($"the balloon did not reach its target of {_channel.TargetPages} pages in {maxPolls} polls");
    }
}

/// <summary>Helpers shared by the balloon tests.</summary>
public static class BalloonTestKit
{
    /// <summary>PPNs first..first+count-1.</summary>
    public static Ppn[] Range(int first, int count) => Enumerable.Range(first, count).Select(p => new Ppn((uint)p)).ToArray();

    /// <summary>Fills every page of a guest with a distinct pattern (seed = base + PPN).</summary>
    public static void WritePatterns(Fakes.TestGuest guest, int seedBase)
    {
        for (var p = 0; p < guest.PageCount; p++)
        {
            guest.Write(new Ppn((uint)p), 0, TestHost.Pattern(seedBase + p));
        }
    }

    /// <summary>The pmap state of every page of a VM.</summary>
    public static PageInfo[] Pmap(MemoryManager manager, VmId vm, int pages) =>
        Enumerable.Range(0, pages).Select(p => manager.PageInfoOf(vm, new Ppn((uint)p))).ToArray();

    /// <summary>Pages in Ballooned state, counted from the pmap.</summary>
    public static int BalloonedInPmap(MemoryManager manager, VmId vm, int pages) =>
        Pmap(manager, vm, pages).Count(i => i.State == PageState.Ballooned);
}
