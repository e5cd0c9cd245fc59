/*
 * The qemu-system-x86_64 arguments for one guest (checked on this project's machines, QEMU 7.2):
 *   -accel tcg,tb-size=N | -accel kvm      TCG's cache trimmed; KVM only when usable
 *   -M pc,mem-merge=on|off                 per-VM KSM opt-in (QEMU marks guest RAM MADV_MERGEABLE)
 *   -m MiB -smp 1 -nodefaults -no-user-config -display none -monitor none -no-reboot
 *   -kernel, -initrd, -append "console=ttyS0 quiet loglevel=3 panic=-1 no_timer_check memvisor.K=V..."
 *                                          panic=-1 + -no-reboot: a guest panic ends QEMU;
 *                                          no_timer_check: under TCG on a loaded host the kernel's
 *                                          IO-APIC timer check can fail and panic the boot (seen
 *                                          with two guests booting beside other builds)
 *   -serial file:console.log               the guest's console, kept for diagnosis
 *   -qmp unix:qmp.sock,server=on,wait=off  the management socket
 *   -device virtio-balloon-pci,id=balloon0,free-page-reporting=on,deflate-on-oom=on
 *   -device virtio-serial-pci + -chardev socket (server) + -device virtserialport,name=memvisor.agent
 *                                          the agent's reports
 *   -drive file=swap.img,if=none,... + -device virtio-blk-pci   with guest swap only (memvisor.swap=1:
 *                                          /init runs mkswap and swapon on /dev/vda); cache=unsafe:
 *                                          the disk is scratch, deleted with the run folder
 *   -drive file=data.img,... + -device virtio-blk-pci   with a data disk only (after the swap disk):
 *                                          sparse zeros the agent reads through the page cache
 *   -object memory-backend-file,id=ram0,size=NM,mem-path=ram.img,share=on,discard-data=on,align=2M,merge=...
 *   -machine memory-backend=ram0           with file-backed RAM only: guest RAM is a MAP_SHARED mapping
 *                                          of ram.img (created sparse by QemuGuest); share=on so that
 *                                          the guest's writes reach the file (the host can write them
 *                                          back and drop them); discard-data=on: QEMU need not write
 *                                          the data out at exit; align=2M: the page cache holds the
 *                                          file in folios of up to 2 MiB, and MADV_PAGEOUT drops one
 *                                          only when a single page table maps all of it (QEMU's own
 *                                          placement, 4 KiB off 2 MiB, left every folio straddling
 *                                          two and nothing was dropped, on 6.18); a balloon's freed
 *                                          pages are punched out of the file
 */
using System.Globalization;

namespace Memvisor.Qemu.Launch;

/// <summary>The files of a running guest in its run folder.</summary>
/// <param name="QmpSocket">The QMP socket.</param>
/// <param name="AgentSocket">The agent's virtio-serial port, as a Unix socket QEMU listens on.</param>
/// <param name="ConsoleLog">The guest's serial console.</param>
/// <param name="SwapDisk">The guest's swap disk image (used only when the guest has swap).</param>
/// <param name="DataDisk">The guest's data disk image (used only when the guest has one).</param>
/// <param name="RamFile">The file backing guest RAM (used only with QemuGuestOptions.RamBackingFile).</param>
public sealed record GuestFiles(string QmpSocket, string AgentSocket, string ConsoleLog, string SwapDisk, string DataDisk, string RamFile)
{
    /// <summary>The files inside <paramref name="folder"/>.</summary>
    public static GuestFiles In(string folder) =>
        new(Path.Combine(folder, "qmp.sock"), Path.Combine(folder, "agent.sock"), Path.Combine(folder, "console.log"), Path.Combine(folder, "swap.img"), Path.Combine(folder, "data.img"), Path.Combine(folder, "ram.img"));
}

/// <summary>Builds QEMU's argument list.</summary>
public static class QemuCommandLine
{
    /// <summary>The virtio-serial port name the agent looks for.</summary>
    public const string AgentPortName = "memvisor.agent";

    /// <summary>The arguments for <paramref name="options"/> under <paramref name="accelerator"/>.</summary>
    public static IReadOnlyList<string> Build(QemuGuestOptions options, Accelerator accelerator, GuestFiles files)
    {
        var append = "console=ttyS0 quiet loglevel=3 panic=-1 no_timer_check"
            + (options.GuestSwapMiB > 0 ? " memvisor.swap=1" : "")
            + string.Concat(options.Agent.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $" memvisor.{a.Key}={a.Value}"));
        string[] swap = options.GuestSwapMiB > 0
            ? ["-drive", $"file={files.SwapDisk},if=none,id=swap0,format=raw,cache=unsafe", "-device", "virtio-blk-pci,drive=swap0"]
            : [];
        string[] data = options.DataDiskMiB > 0
            ? ["-drive", $"file={files.DataDisk},if=none,id=data0,format=raw,cache=unsafe", "-device", "virtio-blk-pci,drive=data0"]
            : [];
        var merge = options.MemMerge ? "on" : "off";
        string[] ram = options.RamBackingFile
            ? ["-object", $"memory-backend-file,id=ram0,size={options.MemoryMiB.ToString(CultureInfo.InvariantCulture)}M,mem-path={files.RamFile},share=on,discard-data=on,align=2M,merge={merge}", "-machine", "memory-backend=ram0"]
            : [];
        return
        [
            "-name", options.Name,
            "-accel", accelerator == Accelerator.Kvm ? "kvm" : $"tcg,tb-size={options.TcgCacheMiB.ToString(CultureInfo.InvariantCulture)}",
            "-M", $"pc,mem-merge={merge}",
            "-m", options.MemoryMiB.ToString(CultureInfo.InvariantCulture),
            .. ram,
            "-smp", "1",
            "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none", "-no-reboot",
            "-kernel", options.Image.KernelPath,
            "-initrd", options.Image.InitrdPath,
            "-append", append,
            "-serial", $"file:{files.ConsoleLog}",
            "-qmp", $"unix:{files.QmpSocket},server=on,wait=off",
            "-device", "virtio-balloon-pci,id=balloon0,free-page-reporting=on,deflate-on-oom=on",
            "-device", "virtio-serial-pci,id=serial0",
            "-chardev", $"socket,id=agent,path={files.AgentSocket},server=on,wait=off",
            "-device", $"virtserialport,chardev=agent,name={AgentPortName}",
            .. swap,
            .. data,
        ];
    }
}
