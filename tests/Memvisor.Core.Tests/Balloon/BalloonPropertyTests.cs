/*
 * The balloon protocol under random, partly hostile guest behaviour: targets, inflate and deflate
 * reports mixing valid and invalid entries (out-of-range PPNs, duplicates, pages in the wrong state,
 * claims to be another VM, too many entries), guests touching pages they gave away, driver status
 * changes including garbage, time passing, VMs powered off and on again (ids reused) with their stale
 * channels still sending. A model of every page (untouched, private with known bytes, ballooned) is
 * kept beside the host, and each report's verdicts are predicted from the protocol's rules.
 * After every step: the memory manager's consistency check; every page in the state the model says,
 * private pages holding their bytes; the balloon size equal to the ballooned pages in the pmap and
 * within the limit; the free pool equal to machine pages minus the pages the guests touched (no VM
 * gains memory it was not granted); rejected entries changed nothing and were counted under their reason.
 */
using CsCheck;
using Memvisor.Core.Balloon;
using Memvisor.Core.Memory;
using Memvisor.Core.Util;
using Memvisor.Testing;
using Memvisor.Testing.Fakes;

namespace Memvisor.Core.Tests.Balloon;

public class BalloonPropertyTests
{
    private const int Vms = 2;
    private const int PagesPerVm = 24;
    private const int MachinePages = Vms * PagesPerVm;

    private enum OpKind
    {
        SetTarget,
        Inflate,
        Deflate,
        GuestWrite,
        GuestRead,
        SetStatus,
        Advance,
        PowerCycle,
        StaleReport,
    }

    private readonly record struct Op(OpKind Kind, int Vm, int Arg, uint[] Ppns, int Claim);

    private static readonly Gen<Op> GenOp = Gen.Select(
        Gen.Frequency(
            (3, Gen.Const(OpKind.SetTarget)),
            (8, Gen.Const(OpKind.Inflate)),
            (5, Gen.Const(OpKind.Deflate)),
            (4, Gen.Const(OpKind.GuestWrite)),
            (2, Gen.Const(OpKind.GuestRead)),
            (1, Gen.Const(OpKind.SetStatus)),
            (2, Gen.Const(OpKind.Advance)),
            (1, Gen.Const(OpKind.PowerCycle)),
            (1, Gen.Const(OpKind.StaleReport))),
        Gen.Int[0, Vms - 1],
        Gen.Int[0, 30],
        Gen.UInt[0, PagesPerVm + 3].Array[0, 9],
        Gen.Int[0, 9],
        (kind, vm, arg, ppns, claim) => new Op(kind, vm, arg, ppns, claim));

    [Fact]
    public void Random_reports_never_corrupt_the_pmap_lose_data_or_grant_memory()
    {
        // 100 runs of 300 operations.
        var totalOps = 0;
        var accepted = 0L;
        var rejected = 0L;
        GenOp.Array[300].Sample(ops =>
        {
            var (a, r) = Run(ops);
            Interlocked.Add(ref totalOps, ops.Length);
            Interlocked.Add(ref accepted, a);
            Interlocked.Add(ref rejected, r);
        }, iter: 100, threads: 1);
        Assert.True(totalOps >= 30_000, $"only {totalOps} operations ran");
        Assert.True(accepted > 1000 && rejected > 1000, $"the mix is lopsided: {accepted} entries accepted, {rejected} rejected");
    }

    private sealed class VmModel
    {
        public required TestGuest Guest { get; set; }

        public required BalloonChannel Channel { get; set; }

        public required BalloonOptions Options { get; init; }

        public byte[][] Oracle { get; } = NewPages();

        public bool[] Touched { get; } = new bool[PagesPerVm];

        public bool[] Ballooned { get; } = new bool[PagesPerVm];

        public int Target { get; set; }

        public int Limit => Options.LimitPages(PagesPerVm);

        public int Size => Ballooned.Count(b => b);

        public VmId Id => Guest.Id;

        public void Reset()
        {
            foreach (var page in Oracle)
            {
                Array.Clear(page);
            }

            Array.Clear(Touched);
            Array.Clear(Ballooned);
            Target = 0;
        }

        private static byte[][] NewPages() => Enumerable.Range(0, PagesPerVm).Select(_ => new byte[PageGeometry.PageSizeBytes]).ToArray();
    }

    private static (long Accepted, long Rejected) Run(Op[] ops)
    {
        using var host = new TestHost(MachinePages, swapPages: MachinePages, seed: (ulong)ops.Length);
        var clock = new ManualClock();
        var balloons = new BalloonHost(host.Manager, clock);

        // VM 0: host defaults (limit 24 × 65 / 100 = 15). VM 1: a 6-page cap and at most 5 entries per report.
        BalloonOptions[] options = [balloons.Options, balloons.Options with { MaxPages = 6, MaxPagesPerReport = 5 }];
        var vms = new VmModel[Vms];
        for (var v = 0; v < Vms; v++)
        {
            var guest = host.PowerOn($"vm{v}", PagesPerVm);
            vms[v] = new VmModel { Guest = guest, Channel = balloons.Attach(guest.Id, options[v]), Options = options[v] };
        }

        var stale = new List<BalloonChannel>();
        long accepted = 0, rejected = 0;
        var step = 0;
        foreach (var op in ops)
        {
            step++;
            var vm = vms[op.Vm];
            var ppn = new Ppn((uint)(op.Arg % PagesPerVm));
            switch (op.Kind)
            {
                case OpKind.SetTarget:
                    Assert.Equal(Math.Min(op.Arg, vm.Limit), balloons.SetTarget(vm.Id, op.Arg));
                    vm.Target = Math.Min(op.Arg, vm.Limit);
                    break;
                case OpKind.Inflate:
                case OpKind.Deflate:
                {
                    var claimed = op.Claim switch
                    {
                        0 => vms[1 - op.Vm].Id,
                        1 => new VmId(99),
                        _ => vm.Id,
                    };
                    var (a, r) = Report(host, balloons, vm, op.Kind == OpKind.Inflate, claimed, op.Ppns, step);
                    accepted += a;
                    rejected += r;
                    break;
                }

                case OpKind.GuestWrite:
                {
                    var bytes = TestHost.Pattern(step);
                    vm.Guest.Write(ppn, 0, bytes);
                    bytes.CopyTo(vm.Oracle[ppn.Value], 0);
                    vm.Touched[ppn.Value] = true;
                    vm.Ballooned[ppn.Value] = false; // a ballooned page touched: the guest takes it back
                    break;
                }

                case OpKind.GuestRead:
                    Assert.True(vm.Guest.PageForRead(ppn).SequenceEqual(vm.Oracle[ppn.Value]), $"step {step}: {vm.Id} {ppn} read back wrong bytes");
                    vm.Touched[ppn.Value] = true;
                    vm.Ballooned[ppn.Value] = false;
                    break;
                case OpKind.SetStatus:
                    vm.Channel.DriverStatus = (BalloonDriverStatus)(op.Arg % 4); // 3 is garbage
                    break;
                case OpKind.Advance:
                    clock.Advance(TimeSpan.FromSeconds(op.Arg % 21));
                    break;
                case OpKind.PowerCycle:
                    host.Manager.PowerOff(vm.Id);
                    if (op.Arg % 2 == 0)
                    {
                        balloons.Detach(vm.Id); // else the host finds out by itself
                    }

                    stale.Add(vm.Channel);
                    vm.Guest = host.PowerOn($"vm{op.Vm}", PagesPerVm);
                    vm.Channel = balloons.Attach(vm.Guest.Id, vm.Options);
                    vm.Reset();
                    break;
                case OpKind.StaleReport when stale.Count > 0:
                {
                    var channel = stale[op.Arg % stale.Count];
                    var before = balloons.Rejections.VmPoweredOff;
                    var ppns = op.Ppns.Select(p => new Ppn(p)).ToArray();
                    var result = op.Arg % 2 == 0 ? channel.Inflate(channel.Vm, ppns) : channel.Deflate(channel.Vm, ppns);
                    Assert.Equal(new BalloonReportResult(0, ppns.Length), result);
                    Assert.Equal(before + ppns.Length, balloons.Rejections.VmPoweredOff);
                    rejected += ppns.Length;
                    break;
                }
            }

            CheckEverything(host, balloons, vms, step);
        }

        return (accepted, rejected);
    }

    /// <summary>Sends one report, checks each verdict against the protocol's rules, and applies the accepted ones to the model.</summary>
    private static (int Accepted, int Rejected) Report(TestHost host, BalloonHost balloons, VmModel vm, bool inflate, VmId claimed, uint[] raw, int step)
    {
        var ppns = raw.Select(p => new Ppn(p)).ToArray();
        var expected = ExpectedVerdicts(vm, inflate, claimed, raw);
        var freeBefore = host.Manager.Pool.FreePages;
        var rejectionsBefore = balloons.Rejections;
        var verdicts = new BalloonVerdict[ppns.Length];
        var result = inflate ? vm.Channel.Inflate(claimed, ppns, verdicts) : vm.Channel.Deflate(claimed, ppns, verdicts);

        Assert.True(expected.SequenceEqual(verdicts), $"step {step}: {(inflate ? "inflate" : "deflate")} [{string.Join(' ', raw)}] got [{string.Join(' ', verdicts)}], expected [{string.Join(' ', expected)}]");
        var acceptedCount = verdicts.Count(v => v == BalloonVerdict.Accepted);
        Assert.Equal(new BalloonReportResult(acceptedCount, ppns.Length - acceptedCount), result);
        var rejectionsAfter = balloons.Rejections;
        foreach (var reason in Enum.GetValues<BalloonVerdict>().Where(r => r != BalloonVerdict.Accepted))
        {
            Assert.Equal(rejectionsBefore[reason] + verdicts.Count(v => v == reason), rejectionsAfter[reason]);
        }

        // Only accepted inflates of pages that had a machine page free one.
        var freed = 0;
        for (var i = 0; i < ppns.Length; i++)
        {
            if (verdicts[i] != BalloonVerdict.Accepted)
            {
                continue;
            }

            var p = raw[i];
            if (inflate)
            {
                freed += vm.Touched[p] ? 1 : 0;
                vm.Touched[p] = false;
                vm.Ballooned[p] = true;
                Array.Clear(vm.Oracle[p]); // the guest gave the page up: its contents are the guest's to lose
            }
            else
            {
                vm.Ballooned[p] = false;
            }
        }

        Assert.Equal(freeBefore + freed, host.Manager.Pool.FreePages);
        return (acceptedCount, ppns.Length - acceptedCount);
    }

    /// <summary>The protocol's rules, written out independently of the implementation.</summary>
    private static BalloonVerdict[] ExpectedVerdicts(VmModel vm, bool inflate, VmId claimed, uint[] ppns)
    {
        var verdicts = new BalloonVerdict[ppns.Length];
        if (claimed != vm.Id)
        {
            Array.Fill(verdicts, BalloonVerdict.ForeignVm);
            return verdicts;
        }

        var seen = new HashSet<uint>();
        var size = vm.Size;
        var wanted = 0; // pages past the target so far
        for (var i = 0; i < ppns.Length; i++)
        {
            var p = ppns[i];
            verdicts[i] =
                i >= vm.Options.MaxPagesPerReport ? BalloonVerdict.ReportTooLarge
                : p >= PagesPerVm ? BalloonVerdict.OutOfRange
                : !seen.Add(p) ? BalloonVerdict.Duplicate
                : !inflate ? (vm.Ballooned[p] ? BalloonVerdict.Accepted : BalloonVerdict.NotBallooned)
                : vm.Ballooned[p] ? BalloonVerdict.AlreadyBallooned
                : size < vm.Target ? BalloonVerdict.Accepted
                : size + ++wanted > vm.Limit ? BalloonVerdict.OverLimit
                : BalloonVerdict.OverTarget;
            if (verdicts[i] == BalloonVerdict.Accepted)
            {
                size += inflate ? 1 : -1;
            }
        }

        return verdicts;
    }

    private static void CheckEverything(TestHost host, BalloonHost balloons, VmModel[] vms, int step)
    {
        host.Manager.CheckConsistency();
        var touched = 0;
        foreach (var vm in vms)
        {
            for (var p = 0u; p < PagesPerVm; p++)
            {
                var info = host.Manager.PageInfoOf(vm.Id, new Ppn(p));
                var state = vm.Ballooned[p] ? PageState.Ballooned : vm.Touched[p] ? PageState.Private : PageState.Untouched;
                // (Messages are built only on failure: this loop runs 48 times a step.)
                if (state != info.State)
                {
                    Assert.Fail($"step {step}: {vm.Id} PPN {p} is {info.State}, expected {state}");
                }

                if (info.State == PageState.Private ? !host.Memory.GetPage(info.Mpn).SequenceEqual(vm.Oracle[p]) : vm.Oracle[p].AsSpan().ContainsAnyExcept((byte)0))
                {
                    Assert.Fail($"step {step}: {vm.Id} PPN {p} ({info.State}) does not hold what the guest last wrote");
                }
            }

            touched += vm.Touched.Count(t => t);
            var stats = balloons.GetStats(vm.Id);
            var memory = host.Manager.GetVmStats(vm.Id);
            Assert.Equal(vm.Size, stats.SizePages);
            Assert.Equal(memory.BalloonedPages, stats.SizePages);
            Assert.Equal(vm.Target, stats.TargetPages);
            Assert.True(stats.SizePages <= stats.LimitPages, $"step {step}: {vm.Id} balloon {stats.SizePages} pages, above its limit {stats.LimitPages}");
            Assert.True(memory.GrantedPages + memory.BalloonedPages <= memory.ConfiguredPages, $"step {step}: {vm.Id} holds more than its configured memory");
            Assert.True(stats.IsResponsive || stats.SizePages != stats.TargetPages, $"step {step}: {vm.Id} flagged while at its target");
            var deliverable = stats.DriverStatus == BalloonDriverStatus.Active && stats.IsResponsive ? stats.LimitPages - stats.SizePages : 0;
            Assert.Equal(deliverable, stats.DeliverablePages);
        }

        // Every machine page is free or backs a page a guest touched: none went anywhere else.
        Assert.Equal(MachinePages - touched, host.Manager.Pool.FreePages);
    }
}
