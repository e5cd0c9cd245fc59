/*
 * The share scan rate on KSM, against a temporary directory standing in for /sys/kernel/mm/ksm:
 * the knobs written for a rate, nothing rewritten when nothing changes, 0 stopping without
 * unmerging, and every knob as found after disposal.
 */
using Memvisor.Linux.Ksm;
using Memvisor.Qemu.Actuation;

namespace Memvisor.Qemu.Tests.Actuation;

public sealed class KsmScanRateTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("memvisor-ksm-rate-").FullName;
    private readonly List<(string Knob, string Value)> _writes = [];

    public KsmScanRateTests()
    {
        foreach (var (name, value) in (ReadOnlySpan<(string, string)>)[("run", "0"), ("pages_to_scan", "100"), ("sleep_millisecs", "200"), ("pages_shared", "0"), ("pages_sharing", "0"), ("pages_unshared", "0"), ("pages_volatile", "0"), ("full_scans", "0")])
        {
            File.WriteAllText(Path.Combine(_folder, name), value + "\n");
        }
    }

    [Fact]
    public void A_rate_sets_pages_to_scan_per_20_ms_then_run_and_an_unchanged_rate_writes_nothing()
    {
        using var rate = new KsmScanRate(new KsmController(Sysfs()));

        rate.Set(5000);
        var first = _writes.ToList();
        rate.Set(5000);

        Assert.Equal([("pages_to_scan", "100"), ("sleep_millisecs", "20"), ("run", "1")], first);
        Assert.Equal(first, _writes);
        Assert.Equal(5000, rate.PagesPerSecond);
    }

    [Fact]
    public void Zero_stops_ksmd_without_unmerging_and_disposal_restores_every_knob()
    {
        using (var rate = new KsmScanRate(new KsmController(Sysfs())))
        {
            rate.Set(50_000);
            rate.Set(0);

            // run=0 stops ksmd and keeps what it merged (run=2 would unmerge everything).
            Assert.Equal([("pages_to_scan", "1000"), ("sleep_millisecs", "20"), ("run", "1"), ("run", "0")], _writes);
        }

        Assert.Equal(("0", "100", "200"), (Read("run"), Read("pages_to_scan"), Read("sleep_millisecs")));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(10, 1)]
    [InlineData(1000, 20)]
    [InlineData(1_000_000, 2000)]
    public void Pages_to_scan_follows_the_rate_within_bounds(int pagesPerSecond, int pagesToScan) =>
        Assert.Equal(pagesToScan, KsmScanRate.PagesToScanFor(pagesPerSecond));

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private KsmSysfs Sysfs() => new(_folder, (knob, value) => _writes.Add((knob, value)));

    private string Read(string knob) => File.ReadAllText(Path.Combine(_folder, knob)).Trim();
}
