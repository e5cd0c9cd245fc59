/*
 * The no-data-loss oracle under the whole policy: three VMs of 512 pages on a 640-page host, driven by the
 * HostMemoryController (sharing scanner, sampling, targets with the idle tax, balloon-first
 * reclamation, paced host swapping), two with working balloon drivers and one without. The guests
 * write templates (so pages share) and private bytes and read pages back; every read is checked
 * against the oracle, and so is every page at the end. Ballooned pages are the guest's to lose: the
 * oracle forgets them, and the workload does not touch pages its balloon holds.
 */
using Memvisor.Core.Balloon;
using Memvisor.Core.Host;
using Memvisor.Core.Host.Owning;
using Memvisor.Core.Memory;
using Memvisor.Core.Sampling;
using Memvisor.Core.Util;
using Memvisor.Testing;
using Memvisor.Testing.Fakes;

namespace Memvisor.Core.Tests.Host;

public class PolicyOracleTests
{
    private const int VmPages = 512;

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void Guests_read_back_what_they_wrote_while_the_policy_shares_balloons_and_swaps(ulong seed)
    {
        using var host = new TestHost(machinePages: 640, swapPages: 3 * VmPages, seed: seed);
        var controller = new HostMemoryController(host.Manager, new HostPolicyOptions
        {
            Sampling = new SamplingOptions { PeriodSeconds = 2, SamplePages = 50 },
            ShareScan = new Sharing.ShareScanOptions { PerVmPagesPerSecond = 400, HostPagesPerSecond = 1000 },
        }, seed);
        var guests = new TestGuest[3];
        var drivers = new TestBalloonDriver?[3];
        for (var v = 0; v < 3; v++)
        {
            var name = $"vm{v}";
            guests[v] = TestGuest.Attach(host.Manager, host.Memory, VmPages, mapping =>
                controller.PowerOn(new VmConfig { Name = name, MaxPages = VmPages, OverheadPages = 16 }, mapping));
            drivers[v] = v < 2 ? new TestBalloonDriver(controller.Balloons.ChannelOf(guests[v].Id), VmPages, batchPages: 32) : null;
        }

        var oracle = new byte[3][][];
        for (var v = 0; v < 3; v++)
        {
            oracle[v] = Enumerable.Range(0, VmPages).Select(_ => new byte[PageGeometry.PageSizeBytes]).ToArray();
        }

        var templates = Enumerable.Range(0, 8).Select(TestHost.Pattern).ToArray();
        var random = new DeterministicRandom(seed);
        var ballooned = new bool[3][];
        for (var v = 0; v < 3; v++)
        {
            ballooned[v] = new bool[VmPages];
        }

        for (var tick = 0; tick < 1500; tick++)
        {
            for (var v = 0; v < 3; v++)
            {
                // VM 2 is busy, VM 0 calms down after a while, VM 1 is mostly idle.
                var accesses = v == 2 ? 60 : v == 0 && tick < 500 ? 40 : 3;
                for (var i = 0; i < accesses; i++)
                {
                    var ppn = random.NextUInt32(VmPages);
                    if (ballooned[v][ppn])
                    {
                        continue;
                    }

                    var page = new Ppn(ppn);
                    switch (random.NextInt32(4))
                    {
                        case 0:
                            var t = templates[random.NextInt32(templates.Length)];
                            guests[v].Write(page, 0, t);
                            t.CopyTo(oracle[v][ppn], 0);
                            break;
                        case 1:
                            var offset = random.NextInt32(PageGeometry.PageSizeBytes / 8) * 8;
                            var value = BitConverter.GetBytes(random.NextUInt64());
                            guests[v].Write(page, offset, value);
                            value.CopyTo(oracle[v][ppn], offset);
                            break;
                        default:
                            Assert.True(guests[v].PageForRead(page).SequenceEqual(oracle[v][ppn]), $"seed {seed} tick {tick}: vm{v} {page} read back wrong bytes");
                            break;
                    }
                }

                if (drivers[v] is { } driver)
                {
                    driver.Poll();
                    Array.Clear(ballooned[v]);
                    foreach (var p in driver.Pages)
                    {
                        ballooned[v][p.Value] = true;
                        Array.Clear(oracle[v][p.Value]); // given up by the guest: its contents are gone
                    }
                }
            }

            controller.Advance(TimeSpan.FromMilliseconds(100));
            if (tick % 100 == 0)
            {
                host.Manager.CheckConsistency();
            }
        }

        var stats = host.Manager.GetHostStats();
        Assert.True(stats.SavedPages > 0, "pages were shared");
        Assert.True(stats.Counters.SwapPagesWritten > 0, "the host swapped (VM 2 has no balloon)");
        Assert.True(drivers.Sum(d => d?.Pages.Count ?? 0) + controller.Balloons.GetStats(guests[0].Id).PagesDeflated > 0, "balloons inflated");
        host.Manager.CheckConsistency();
        for (var v = 0; v < 3; v++)
        {
            for (var p = 0u; p < VmPages; p++)
            {
                if (!ballooned[v][p])
                {
                    Assert.True(guests[v].PageForRead(new Ppn(p)).SequenceEqual(oracle[v][p]), $"seed {seed} end: vm{v} PPN {p} read back wrong bytes");
                }
            }
        }
    }
}
