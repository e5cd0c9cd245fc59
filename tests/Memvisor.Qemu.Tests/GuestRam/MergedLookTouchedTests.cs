/*
 * Pages ksmd merges are not counted as touched; pages written are. The arithmetic on its own, and the
 * kernel fact it corrects for, on a mapping of this test process measured the way a guest's RAM is
 * (smaps Referenced after clear_refs): ksmd merging pairs of identical pages installs young PTEs.
 */
using System.Runtime.InteropServices;
using Memvisor.Core.Sampling;
using Memvisor.Linux.Ksm;
using Memvisor.Native;
using Memvisor.Qemu.GuestRam;
using Memvisor.Qemu.Tests.RealGuests;
using Memvisor.Testing;

namespace Memvisor.Qemu.Tests.GuestRam;

[Collection(RealGuestGroup.Name)]
public sealed class MergedLookTouchedTests
{
    private const int Pairs = 2048;
    private const int Written = 512;

    [Theory]
    [InlineData(1000, 300L, 100L, 800)] // 200 merged in the period: not touches
    [InlineData(100, 900L, 100L, 0)] // never below zero
    [InlineData(1000, 100L, 300L, 1000)] // unmerged (a write broke shared pages): nothing taken off
    [InlineData(1000, null, 100L, 1000)] // the kernel does not say: no correction
    [InlineData(1000, 300L, null, 1000)] // the period's start is not known: no correction
    public void Referenced_pages_lose_the_growth_of_merged_pages_and_nothing_else(long referenced, long? mergedNow, long? mergedAtStart, long touched) =>
        Assert.Equal(touched, MergedLookTouched.TouchedPages(referenced, mergedNow, mergedAtStart));

    [Fact]
    public async Task Pages_ksmd_merges_in_a_period_are_not_counted_as_touched_and_pages_written_are()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            Assert.Skip("the young PTE of a merged page is x86's protection bits");
        }

        if (KsmSysfs.WhyNotWritable() is { } why)
        {
            Assert.Skip($"KSM cannot be driven here: {why}");
        }

        RealGuestHostLock.Acquire();
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper!;

        // Pages [0, Pairs) and [Pairs, 2 Pairs) hold the same contents pairwise; the last Written pages are unique.
        using var ram = AnonymousMapping.Create((2 * Pairs) + Written);
        var random = new Random(7);
        for (var i = 0; i < Pairs; i++)
        {
            random.NextBytes(ram.Page(i));
            ram.Page(i).CopyTo(ram.Page(Pairs + i));
        }

        for (var i = 2 * Pairs; i < ram.PageCount; i++)
        {
            random.NextBytes(ram.Page(i));
        }

        ram.Advise(MemoryAdvice.Mergeable);
        var start = (ulong)ram.DangerousGetHandle();
        var mapping = new GuestRamMapping(Environment.ProcessId, start, start + (ulong)ram.LengthBytes);
        var meter = new WorkingSetMeter(mapping, new SamplingOptions { PeriodSeconds = 1, InitialActiveFraction = 0 });

        // Period 1: nothing touches the pages, ksmd merges the pairs. (Both periods run while this test
        // holds KSM: restoring the knobs unmerges what it merged, and breaking a merge is a write.)
        Assert.True(meter.StartPeriod());
        using var ksm = new KsmController(new KsmSysfs(), Path.GetTempPath());
        ksm.Start(pagesToScan: 1000, sleepMilliseconds: 20);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while ((mapping.ReadUsage()?.KsmBytes ?? 0) / 4096 < 2 * Pairs && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(200, ct);
        }

        // run=0 stops ksmd and keeps its merges.
        ksm.Set(KsmKnob.Run, 0);
        var raw = mapping.ReadUsage()!;
        var first = meter.CompletePeriod()!;
        output.WriteLine($"period 1: merged {raw.KsmBytes / 4096} pages, referenced {raw.ReferencedBytes / 4096}, counted as touched {first.ReferencedPages}");
        Assert.True(raw.KsmBytes / 4096 >= 2 * Pairs * 9 / 10, $"ksmd merged only {raw.KsmBytes / 4096} of {2 * Pairs} pages in 60 s");
        Assert.True(raw.ReferencedBytes / 4096 >= Pairs * 9 / 10, $"the kernel's premise: one page of each merged pair looks referenced; {raw.ReferencedBytes / 4096} of {Pairs} did");
        Assert.InRange(first.ReferencedPages, 0, 16);

        // Period 2: no merging; the unique pages and a quarter of the merged pairs' first pages are written.
        for (var i = 2 * Pairs; i < ram.PageCount; i++)
        {
            ram.Page(i)[0]++;
        }

        for (var i = 0; i < Pairs / 4; i++)
        {
            ram.Page(i)[0]++;
        }

        var second = meter.CompletePeriod()!;
        output.WriteLine($"period 2: merged {second.Usage.KsmBytes / 4096} pages, referenced {second.Usage.ReferencedBytes / 4096}, counted as touched {second.ReferencedPages}");
        Assert.InRange(second.ReferencedPages, Written + (Pairs / 4), Written + (Pairs / 4) + 16);
    }
}
