/*
 * KSM across two real guests: guests whose agents fill memory with the same seed hold identical
 * pages; with ksmd running they are merged, and each QEMU's ksm_merging_pages agrees with the KSM
 * field of its guest-RAM mapping in smaps. KSM is host-wide: every knob is saved before it is
 * changed (with a journal on disk) and all are restored, also when the test fails.
 */
using Memvisor.Linux.Ksm;
using Memvisor.Qemu.GuestRam;
using Memvisor.Qemu.Launch;

namespace Memvisor.Qemu.Tests.RealGuests;

[Collection(RealGuestGroup.Name)]
public sealed class KsmGuestTests
{
    private const long MiB = 1L << 20;
    private const int FilledMiB = 96;
    private static readonly TimeSpan BootWait = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan MergeWait = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Two_guests_with_the_same_seed_are_merged_and_each_VMs_saving_matches_its_ksm_merging_pages()
    {
        RealGuestRequirements.SkipUnlessAvailable();
        if (KsmSysfs.WhyNotWritable() is { } why)
        {
            Assert.Skip($"KSM cannot be driven here: {why}");
        }

        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper!;
        var image = await RealGuestRequirements.ImageAsync();
        var agent = new Dictionary<string, string> { ["mode"] = "idle", ["alloc_mib"] = $"{FilledMiB}", ["fill"] = "seeded", ["seed"] = "42" };
        var guests = new List<QemuGuest>();
        var journal = KsmJournal.PathFor(Path.GetTempPath(), Environment.ProcessId);
        KsmController? ksm = null;
        try
        {
            // Each start returns once QEMU's sockets are open: the two guests boot side by side.
            foreach (var name in (string[])["ksm1", "ksm2"])
            {
                guests.Add(await QemuGuest.StartAsync(new QemuGuestOptions { Name = name, MemoryMiB = 256, Image = image, Agent = agent }, ct));
            }

            foreach (var guest in guests)
            {
                var filled = await guest.WaitForReportAsync(r => r.State == AgentState.Running, BootWait, ct);
                Assert.True(filled is not null, $"{guest.Options.Name} did not fill its memory: {guest.DiagnosticTail()}");
            }

            ksm = new KsmController(new KsmSysfs(), Path.GetTempPath());
            ksm.Start(pagesToScan: 1000, sleepMilliseconds: 20);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var seededPages = FilledMiB * MiB / 4096;
            while (clock.Elapsed < MergeWait && guests.Any(g => (GuestKsm.Read(g.Pid)?.MergingPages ?? 0) < seededPages * 9 / 10))
            {
                await Task.Delay(500, ct);
            }

            output.WriteLine($"KSM merged both guests' seeded memory within {clock.Elapsed.TotalSeconds:0} s (pages_to_scan 1000, sleep 20 ms)");

            // Let merging settle (two equal readings 1 s apart) so that the two figures compared below
            // are not taken at different moments of ksmd's scan.
            long[] previous = [];
            while (clock.Elapsed < MergeWait)
            {
                long[] now = [.. guests.Select(g => GuestKsm.Read(g.Pid)?.MergingPages ?? 0)];
                if (now.SequenceEqual(previous))
                {
                    break;
                }

                previous = now;
                await Task.Delay(1000, ct);
            }

            foreach (var guest in guests)
            {
                var perProcess = GuestKsm.Read(guest.Pid);
                var rollup = GuestKsm.ReadRollupKsmBytes(guest.Pid);
                var mapping = guest.RamMapping!.ReadUsage();
                Assert.NotNull(perProcess);
                Assert.NotNull(rollup);
                Assert.NotNull(mapping?.KsmBytes);
                output.WriteLine($"{guest.Options.Name}: ksm_merging_pages {perProcess.MergingPages} ({perProcess.MergingPages * 4096 / (double)MiB:0.0} MiB), smaps_rollup KSM {rollup / (double)MiB:0.0} MiB, guest RAM KSM {mapping.KsmBytes / (double)MiB:0.0} MiB, RSS {mapping.RssBytes / (double)MiB:0.0} MiB");
                Assert.True(mapping.KsmBytes >= seededPages * 4096 * 9 / 10, $"{guest.Options.Name}: only {mapping.KsmBytes / MiB} MiB of guest RAM merged");
                Assert.True(perProcess.Mergeable ?? true);

                // Read one after the other while ksmd runs on (settled, but not stopped): 1 MiB of drift allowed.
                Assert.InRange(rollup.Value, (perProcess.MergingPages * 4096) - MiB, (perProcess.MergingPages * 4096) + MiB);
                Assert.True(mapping.KsmBytes <= rollup + MiB, "guest RAM is part of the process");
            }
        }
        finally
        {
            foreach (var guest in guests)
            {
                await guest.DisposeAsync();
            }

            ksm?.Dispose();
        }

        Assert.All(ksm!.Originals, o => Assert.Equal(o.Value, new KsmSysfs().Read(o.Knob)));
        Assert.False(File.Exists(journal), "the KSM journal is removed once every knob is restored");
    }
}
