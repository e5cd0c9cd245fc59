/*
 * `memvisor host`: real Linux guests under QEMU on this machine.
 *   host doctor            what this machine can do (QEMU, guest kernel, busybox, gcc, KVM or TCG and
 *                          why, KSM, host swap, cgroups), and the one apt-get line for what is missing
 *   host image [--cache]   build the guest kernel + initramfs (with the guest agent) into the cache,
 *                          or say that the cached one is current
 *   host run [SCENARIO]    a scenario on real guests under the policy (HostRunCommand.cs)
 *   host attach --qmp ...  the policy over VMs Memvisor did not start (HostAttachCommand.cs)
 * Wiring and printing only: the checks and the image builder live in Memvisor.Qemu.
 */
using System.CommandLine;
using System.Globalization;
using Memvisor.Qemu.Doctor;
using Memvisor.Qemu.Images;
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Substrate;

namespace Memvisor.Cli.Commands;

/// <summary>The <c>host</c> command and its subcommands.</summary>
internal static class HostCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var doctor = new Command("doctor", "Say what this machine can do for real guests under QEMU, and print the install line for what is missing.");
        doctor.SetAction((_, ct) => DoctorAsync(ct));

        var cache = new Option<string?>("--cache")
        {
            Description = $"The image cache folder (default {GuestImage.DefaultCacheRoot}).",
            HelpName = "DIR",
        };
        var image = new Command("image", "Build the guest kernel + initramfs (busybox, virtio modules, the guest agent) from the installed packages; rebuilt only when they change.")
        {
            cache,
        };
        image.SetAction((parse, ct) => ImageAsync(parse.GetValue(cache), ct));

        return new Command("host", "Real Linux guests under QEMU on this machine.") { doctor, image, HostRunCommand.Create(), HostAttachCommand.Create() };
    }

    private static async Task<int> DoctorAsync(CancellationToken cancellationToken)
    {
        var checks = await HostDoctor.CheckAsync(cancellationToken).ConfigureAwait(false);
        var width = checks.Max(c => c.Name.Length);
        foreach (var check in checks)
        {
            var mark = check.Status switch { CheckStatus.Ok => "ok     ", CheckStatus.Limited => "limited", _ => "MISSING" };
            Console.WriteLine($"{mark}  {check.Name.PadRight(width)}  {check.Detail}");
        }

        if (HostDoctor.InstallLine(checks) is { } install)
        {
            Console.WriteLine();
            Console.WriteLine($"To install what is missing: {install}");
            return 1;
        }

        Console.WriteLine();
        Console.WriteLine("Real guests can run here.");
        return 0;
    }

    private static async Task<int> ImageAsync(string? cacheRoot, CancellationToken cancellationToken)
    {
        if (cacheRoot is not null && string.IsNullOrWhiteSpace(cacheRoot))
        {
            // An empty name is no folder: the image was built into the current folder.
            Console.Error.WriteLine("memvisor host image: --cache '': the folder name is empty; nothing built.");
            return 1;
        }

        try
        {
            var built = await GuestImageBuilder.BuildAsync(cacheRoot, cancellationToken).ConfigureAwait(false);
            var initrdMiB = new FileInfo(built.InitrdPath).Length / (1024.0 * 1024.0);
            Console.WriteLine(built.Reused
                ? $"Image current (inputs unchanged): {built.Folder}"
                : $"Image built: {built.Folder}");
            Console.WriteLine($"  kernel  {built.KernelPath} ({built.KernelVersion})");
            Console.WriteLine($"  initrd  {built.InitrdPath} ({initrdMiB:0.0} MiB)");
            return 0;
        }
        catch (Exception e) when (e is MissingHostPackageException or GuestImageException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"memvisor host image: {e.Message}");
            return 1;
        }
    }
}
