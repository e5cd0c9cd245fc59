/*
 * `memvisor host`: real Linux guests under QEMU on this machine.
 *   host doctor            what this machine can do (QEMU, guest kernel, busybox, gcc, KVM or TCG and
 *                          why, KSM, host swap, cgroups), and the one apt-get line for what is missing
 *   host image [--cache]   build the guest kernel + initramfs (with the guest agent) into the cache,
 *                          or say that the cached one is current
 *   host run [--duration]  the built-in real-guest run: three overcommitted guests under the policy,
 *                          a line every 5 s (scenario files, the live table and the run outputs of
 *                          `simulate` are still to come)
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

        var duration = Arguments.PositiveNumber("--duration", "Seconds the policy runs once the guests have booted (default 180).", "SECONDS", 86_400);
        var run = new Command("run", "Boot three 256 MiB guests on a 560 MiB budget under the policy (idle tax 0.75) and print what it decides every 5 s. Exit code 1: missing packages or bad arguments; 130: interrupted (every guest stopped).")
        {
            duration,
        };
        run.SetAction((parse, ct) => RunAsync(TimeSpan.FromSeconds(parse.GetValue(duration) ?? 180), ct));

        return new Command("host", "Real Linux guests under QEMU on this machine.") { doctor, image, run };
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

    private static async Task<int> RunAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        const int PagesPerMiB = 256;
        try
        {
            HostTools.RequireQemu();
            var built = await GuestImageBuilder.BuildAsync(null, cancellationToken).ConfigureAwait(false);
            var (options, guests) = BuiltInRun.Create(built, duration);
            Console.WriteLine($"Booting {guests.Count} guests under TCG ({string.Join(", ", guests.Select(g => $"{g.Options.Name} {g.Options.MemoryMiB} MiB"))}) on a {options.BudgetPages / PagesPerMiB} MiB budget; the policy then runs {duration.TotalSeconds:0} s.");
            Console.WriteLine("time  state  free | per guest: target / consumed / balloon MiB, f (estimated active fraction), agent's touched MiB");
            var progress = new SynchronousProgress(row =>
            {
                if ((int)row.Time.TotalSeconds % 5 == 0)
                {
                    Console.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"{row.Time.TotalSeconds,4:0}s {row.State,-5} {row.FreePages / PagesPerMiB,4} | ")
                        + string.Join(" | ", row.Vms.Select(v => string.Create(
                            CultureInfo.InvariantCulture,
                            $"{v.Name} {v.Policy.TargetPages / PagesPerMiB}/{v.Policy.ConsumedPages / PagesPerMiB:0}/{v.Figures.BalloonPages / PagesPerMiB} f {v.Policy.ActiveFraction:0.00} touched {(v.Agent?.TouchedPages ?? 0) / PagesPerMiB}"))));
                }
            });
            var result = await QemuHostRun.RunAsync(options, guests, progress, cancellationToken).ConfigureAwait(false);
            foreach (var line in result.Refused)
            {
                Console.WriteLine($"refused: {line}");
            }

            foreach (var line in result.Faults)
            {
                Console.WriteLine($"note: {line}");
            }

            return 0;
        }
        catch (Exception e) when (e is MissingHostPackageException or GuestImageException or ArgumentException)
        {
            Console.Error.WriteLine($"memvisor host run: {e.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("memvisor host run: interrupted; every guest stopped.");
            return 130;
        }
    }

    /// <summary>Reports on the run's own thread, so that lines come out in order.</summary>
    private sealed class SynchronousProgress(Action<QemuRunRow> report) : IProgress<QemuRunRow>
    {
        public void Report(QemuRunRow value) => report(value);
    }
}
