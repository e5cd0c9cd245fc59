using Memvisor.Core.Memory;
using Memvisor.Core.Sampling;
using Memvisor.Core.Util;
using Memvisor.Testing;
using Memvisor.Testing.Fakes;

namespace Memvisor.Core.Tests.Sampling;

/// <summary>
/// A simulated guest whose working set is known: a fixed random order of its pages, of which the first
/// <c>fraction * pages</c> are touched (read) every simulated second. A period of 30 s therefore touches
/// exactly that fraction of the VM's pages: the truth the sampler's estimate is checked against.
/// </summary>
internal sealed class ActiveSetWorkload
{
    private readonly TestGuest _guest;
    private readonly Ppn[] _order;

    public ActiveSetWorkload(TestGuest guest, ulong seed)
    {
        _guest = guest;
        _order = new Ppn[guest.PageCount];
        for (var i = 0; i < _order.Length; i++)
        {
            _order[i] = new Ppn((uint)i);
        }

        var random = new DeterministicRandom(seed);
        for (var i = _order.Length - 1; i > 0; i--)
        {
            var j = random.NextInt32(i + 1);
            (_order[i], _order[j]) = (_order[j], _order[i]);
        }
    }

    /// <summary>The fraction of the VM's pages touched each second.</summary>
    public double Fraction { get; set; }

    /// <summary>One simulated second: touch the active set, then account the second of VM time.</summary>
    public void RunSecond(WorkingSetSampler sampler)
    {
        var active = (int)Math.Round(Fraction * _order.Length);
        for (var i = 0; i < active; i++)
        {
            _ = _guest.PageForRead(_order[i]);
        }

        sampler.Advance(_guest.Id, TimeSpan.FromSeconds(1));
    }

    /// <summary>
    /// Runs phases of (fraction, periods of 30 s) from power-on and returns the estimate after each
    /// simulated second: element s is the estimate after second s + 1.
    /// </summary>
    public static double[] Trace(ulong seed, int pages, params (double Fraction, int Periods)[] phases)
    {
        using var host = new TestHost(machinePages: pages + 16, swapPages: 0);
        var guest = host.PowerOn("toucher", pages, minPages: pages);
        var sampler = new WorkingSetSampler(host.Manager, new SamplingOptions(), seed);
        sampler.Track(guest.Id);
        var workload = new ActiveSetWorkload(guest, seed ^ 0x5EED);
        var trace = new List<double>();
        foreach (var (fraction, periods) in phases)
        {
            workload.Fraction = fraction;
            for (var s = 0; s < periods * 30; s++)
            {
                workload.RunSecond(sampler);
                trace.Add(sampler.Estimate(guest.Id));
            }
        }

        host.Manager.CheckConsistency();
        return [.. trace];
    }
}
