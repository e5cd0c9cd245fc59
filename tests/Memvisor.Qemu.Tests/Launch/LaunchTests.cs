/*
 * The launcher's pure parts: option validation, QEMU's command line, the KVM probe, the agent's
 * report format, and the THP-disable flag reaching a child without staying on this process.
 */
using System.Diagnostics;
using Memvisor.Qemu.Images;
using Memvisor.Qemu.Launch;
using Memvisor.Native;

namespace Memvisor.Qemu.Tests.Launch;

public sealed class LaunchTests
{
    private static readonly GuestImage Image = new("/img", "/img/vmlinuz", "/img/initrd.gz", "6.1.0-5-cloud-amd64", "abc", Reused: true);

    [Fact]
    public void The_command_line_carries_memory_merge_opt_out_agent_settings_balloon_and_sockets()
    {
        var options = new QemuGuestOptions
        {
            Name = "vm1",
            MemoryMiB = 256,
            Image = Image,
            MemMerge = false,
            Agent = new Dictionary<string, string> { ["seed"] = "7", ["mode"] = "toucher" },
        };
        var files = GuestFiles.In("/run/x");

        var args = QemuCommandLine.Build(options, Accelerator.Tcg, files);

        Assert.Equal("pc,mem-merge=off", After(args, "-M"));
        Assert.Equal("256", After(args, "-m"));
        Assert.Equal("tcg,tb-size=32", After(args, "-accel"));
        Assert.Equal("console=ttyS0 quiet loglevel=3 panic=-1 no_timer_check memvisor.mode=toucher memvisor.seed=7", After(args, "-append"));
        Assert.Equal("unix:/run/x/qmp.sock,server=on,wait=off", After(args, "-qmp"));
        Assert.Contains("virtio-balloon-pci,id=balloon0,free-page-reporting=on,deflate-on-oom=on", args);
        Assert.Contains("virtserialport,chardev=agent,name=memvisor.agent", args);
        Assert.Equal("kvm", After(QemuCommandLine.Build(options, Accelerator.Kvm, files), "-accel"));
    }

    [Fact]
    public void Guest_swap_adds_a_virtio_disk_in_the_run_folder_and_tells_init()
    {
        var options = new QemuGuestOptions { Name = "vm1", MemoryMiB = 256, Image = Image, GuestSwapMiB = 128 };
        var files = GuestFiles.In("/run/x");

        var args = QemuCommandLine.Build(options, Accelerator.Tcg, files);
        var without = QemuCommandLine.Build(options with { GuestSwapMiB = 0 }, Accelerator.Tcg, files);

        Assert.Equal("file=/run/x/swap.img,if=none,id=swap0,format=raw,cache=unsafe", After(args, "-drive"));
        Assert.Contains("virtio-blk-pci,drive=swap0", args);
        Assert.Contains(" memvisor.swap=1", After(args, "-append"), StringComparison.Ordinal);
        Assert.DoesNotContain("-drive", without);
        Assert.DoesNotContain("memvisor.swap", After(without, "-append"), StringComparison.Ordinal);
    }

    [Fact]
    public void File_backed_RAM_is_a_shared_2_MiB_aligned_memory_backend_on_the_run_folders_RAM_file()
    {
        var options = new QemuGuestOptions { Name = "vm1", MemoryMiB = 256, Image = Image, RamBackingFile = true, MemMerge = false };
        var files = GuestFiles.In("/run/x");

        var args = QemuCommandLine.Build(options, Accelerator.Tcg, files);
        var without = QemuCommandLine.Build(options with { RamBackingFile = false }, Accelerator.Tcg, files);

        Assert.Equal("/run/x/ram.img", files.RamFile);
        Assert.Equal("memory-backend-file,id=ram0,size=256M,mem-path=/run/x/ram.img,share=on,discard-data=on,align=2M,merge=off", After(args, "-object"));
        Assert.Equal("memory-backend=ram0", After(args, "-machine"));
        Assert.Equal("256", After(args, "-m"));
        Assert.DoesNotContain("-object", without);
        Assert.DoesNotContain("-machine", without);
    }

    [Theory]
    [InlineData("bad name", 256, "mode", "idle", "guest name 'bad name'")]
    [InlineData("vm", 32, "mode", "idle", "memory 32 MiB is outside")]
    [InlineData("vm", 256, "mode", "toucher now", "agent setting 'mode=toucher now'")]
    [InlineData("vm", 256, "mode", "idle", "image /img is incomplete")]
    public void Invalid_options_are_named_in_one_line(string name, int memoryMiB, string key, string value, string expected)
    {
        var options = new QemuGuestOptions { Name = name, MemoryMiB = memoryMiB, Image = Image, Agent = new Dictionary<string, string> { [key] = value } };

        var problem = options.Validate();

        Assert.NotNull(problem);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', problem);
    }

    [Fact]
    public void Kvm_is_refused_with_the_reason_when_the_device_is_missing_or_nested_pvm()
    {
        var root = Directory.CreateTempSubdirectory("memvisor-kvm-").FullName;
        try
        {
            var device = Path.Combine(root, "kvm");
            var modules = Directory.CreateDirectory(Path.Combine(root, "module")).FullName;
            var missing = KvmProbe.Check(device, modules);
            File.WriteAllText(device, "");
            Directory.CreateDirectory(Path.Combine(modules, "kvm_pvm"));
            var pvm = KvmProbe.Check(device, modules);

            Assert.False(missing.Usable);
            Assert.Contains("missing", missing.Reason, StringComparison.Ordinal);
            Assert.False(pvm.Usable);
            Assert.Contains("nested PVM", pvm.Reason, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Agent_reports_parse_and_noise_is_ignored()
    {
        var report = AgentReport.TryParse("""{"t": 12.5, "state": "running", "phase": 1, "work": 76179, "touched_pages": 8145, "set_pages": 8192, "alloc_pages": 16384, "filled_pages": 16384}""");

        Assert.Equal(new AgentReport(12.5, AgentState.Running, 1, 76179, 8145, 8192, 16384, 16384), report);
        Assert.Equal(0, report!.BadPages);
        Assert.Equal(3, AgentReport.TryParse("""{"t": 2.0, "state": "running", "phase": 0, "work": 9, "touched_pages": 9, "set_pages": 9, "alloc_pages": 9, "filled_pages": 9, "bad_pages": 3}""")!.BadPages);
        var stalled = AgentReport.TryParse("""{"t": 3.0, "state": "running", "phase": 0, "work": 9, "touched_pages": 9, "set_pages": 9, "alloc_pages": 9, "filled_pages": 9, "bad_pages": 0, "iowait_s": 1.25, "cpus": 2}""")!;
        Assert.Equal((1.25, 2), (stalled.IowaitSeconds, stalled.Cpus));
        Assert.Equal((null, null), (report.IowaitSeconds, report.Cpus));
        Assert.Null(AgentReport.TryParse("""{"t": 3.0, "state": "running", "phase": 0, "work": 9, "touched_pages": 9, "set_pages": 9, "alloc_pages": 9, "filled_pages": 9, "bad_pages": 0, "iowait_s": -1, "cpus": 1}""")!.IowaitSeconds);
        Assert.Null(AgentReport.TryParse("memvisor-init: starting the agent"));
        Assert.Null(AgentReport.TryParse("""{"t": 1.0, "state": "run"""));
    }

    [Fact]
    public void A_child_started_with_THP_disabled_has_it_disabled_and_this_process_keeps_its_own_setting()
    {
        var before = TransparentHugePages.IsDisabledForThisProcess();
        using var child = ThpDisabledStart.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false });
        try
        {
            Assert.True(ThpDisabledStart.IsThpDisabledFor(child.Id));
            Assert.Equal(before, TransparentHugePages.IsDisabledForThisProcess());
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }

    private static string After(IReadOnlyList<string> args, string flag) => args[args.ToList().IndexOf(flag) + 1];
}
