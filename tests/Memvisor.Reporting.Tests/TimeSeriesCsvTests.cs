using Memvisor.Core.Statistics;
using Memvisor.Reporting;
using Memvisor.Scenarios;

namespace Memvisor.Reporting.Tests;

public class TimeSeriesCsvTests
{
    /// <summary>One sample of a 64 MiB host with a running VM (odd name) and a powered-off one; sizes in whole pages (1 page = 1/256 MiB).</summary>
    internal static IReadOnlyList<HostSample> TinyRun() =>
    [
        new HostSample
        {
            TimeSeconds = 2.5,
            MemoryMB = 64,
            FreeMB = 3.25,
            State = "soft",
            SharedSavedMB = 1 / 256.0,
            SwapUsedMB = 0,
            BalloonMB = 1.5,
            Vms =
            [
                new VmSample
                {
                    Name = "web, 01",
                    ConfiguredMB = 32, MinMB = 8, Shares = 320, TargetMB = 30.5, GrantedMB = 28,
                    PrivateMB = 28 - (1 / 256.0), ActiveEstimateMB = 12.125, TrueWorkingSetMB = double.NaN,
                    BalloonMB = 1.5, BalloonTargetMB = 2, SwappedMB = 0, SwapTargetMB = -0.0,
                    SharedMB = 3 / 256.0, SharedSavedMB = 1 / 256.0, ZeroMB = 0, OverheadMB = 4,
                    Throughput = 1234.5678912, GuestSwapPages = 3, HostSwapInPages = 0, BounceCopies = 7, DataMismatches = 0,
                    DoublePagingPages = 5, IoRemaps = 2,
                },
                new VmSample { Name = "say \"hi\"", ConfiguredMB = 16, PoweredOn = false },
            ],
        },
    ];

    [Fact]
    public void Host_csv_is_the_documented_header_and_one_row_per_sample()
    {
        var csv = TimeSeriesCsv.HostCsv(TinyRun());

        // 1/256 MiB = 0.00390625 shows with 6 decimals as 0.003906; 64.0 as 64; 2 VMs listed (one powered off).
        Assert.Equal(
            "time_s,memory_mb,free_mb,state,shared_saved_mb,swap_used_mb,balloon_mb,vms\n" +
            "2.5,64,3.25,soft,0.003906,0,1.5,2\n",
            csv);
    }

    [Fact]
    public void Vm_csv_is_the_documented_header_and_one_row_per_sample_and_vm()
    {
        var csv = TimeSeriesCsv.VmsCsv(TinyRun());

        // private 28 - 1/256 = 27.99609375 -> 27.996094 (6 decimals, rounded); shared 3/256 = 0.01171875 -> 0.011719;
        // unknown true working set (NaN) -> empty cell; swap target -0 -> 0; throughput 1234.5678912 -> 1234.567891;
        // a name with a comma is quoted, a quote inside a name is doubled.
        Assert.Equal(
            "time_s,vm,powered_on,configured_mb,min_mb,shares,target_mb,granted_mb,private_mb,active_estimate_mb,true_ws_mb," +
            "balloon_mb,balloon_target_mb,swapped_mb,swap_target_mb,shared_mb,shared_saved_mb,zero_mb,overhead_mb,throughput_per_s," +
            "guest_swap_pages,host_swap_in_pages,bounce_copies,data_mismatches,double_paging_pages,io_remaps\n" +
            "2.5,\"web, 01\",1,32,8,320,30.5,28,27.996094,12.125,,1.5,2,0,0,0.011719,0.003906,0,4,1234.567891,3,0,7,0,5,2\n" +
            "2.5,\"say \"\"hi\"\"\",0,16,0,0,0,0,0,0,,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0\n",
            csv);
    }

    [Fact]
    public void A_run_with_real_guests_adds_their_columns_and_a_simulated_run_does_not()
    {
        var run = TinyRun();
        var real = new[]
        {
            run[0] with
            {
                Vms =
                [
                    run[0].Vms[0] with { Real = new RealGuestSample { GuestTotalMB = 218, GuestFreeMB = 125.5, GuestMajorFaults = 7, StalledPercent = 37.5, ReferencedMB = 33, MeasureMilliseconds = 12.25, KsmMergingMB = 2, Balloon = "stalled", Paused = false } },
                    run[0].Vms[1],
                ],
            },
        };

        var simulated = TimeSeriesCsv.VmsCsv(run).Split('\n');
        var lines = TimeSeriesCsv.VmsCsv(real).Split('\n');

        Assert.DoesNotContain("guest_total_mb", simulated[0], StringComparison.Ordinal);
        Assert.EndsWith(",io_remaps,guest_total_mb,guest_free_mb,guest_available_mb,guest_major_faults,stalled_pct,referenced_mb,measure_ms,ksm_merging_mb,balloon_state,paused", lines[0], StringComparison.Ordinal);
        Assert.EndsWith(",5,2,218,125.5,,7,37.5,33,12.25,2,stalled,0", lines[1], StringComparison.Ordinal);
        Assert.EndsWith(",0,0,,,,,,,,,,", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Every_csv_column_is_described_in_docs_outputs()
    {
        var docs = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "outputs.md"));
        foreach (var column in TimeSeriesCsv.HostColumns.Select(c => c.Name).Concat(TimeSeriesCsv.VmColumns.Select(c => c.Name)).Concat(TimeSeriesCsv.RealGuestColumns.Select(c => c.Name)))
            Assert.Contains("`" + column + "`", docs, StringComparison.Ordinal);
    }

    [Fact]
    public void Large_and_tiny_numbers_never_use_an_exponent()
    {
        var csv = TimeSeriesCsv.HostCsv([new HostSample { TimeSeconds = 1e-7, MemoryMB = 1e15, FreeMB = -1e-9 }]);

        // 1e-7 s and -1e-9 MiB round to 0 at 6 decimals (no "-0"); 1e15 is written out in full.
        Assert.Equal("0,1000000000000000,0,high,0,0,0,0", csv.Split('\n')[1]);
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Memvisor.slnx")))
                return dir.FullName;
        }
        throw new InvalidOperationException("Memvisor.slnx not found above " + AppContext.BaseDirectory);
    }
}
