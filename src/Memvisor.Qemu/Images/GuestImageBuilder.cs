/*
 * `memvisor host image`: builds a guest kernel + initramfs from the host's installed Debian packages.
 *
 * Inputs: the guest kernel (/boot/vmlinuz-VERSION) and its virtio modules, a static busybox, and the
 * guest agent's C source and /init script (embedded in this assembly). Their bytes are hashed
 * (SHA-256, with a format version): the image lives in CACHE/<first 16 hex digits>, and a folder
 * that exists is reused as is, so an image is rebuilt only when an input changes.
 *
 * The initramfs holds: /init; /bin/busybox with a link per applet; /sbin/memvisor-agent (gcc -O2
 * -static); /lib/modules/<name>.ko; /dev/console (so the kernel has a console before devtmpfs);
 * empty /proc /sys /tmp /etc. It is written as newc cpio (NewcArchive) and gzip-compressed, in a
 * temporary folder renamed into place when complete (nothing half-written is ever used).
 */
using System.Reflection;
using System.Security.Cryptography;
using System.IO.Compression;
using Memvisor.Qemu.Processes;

namespace Memvisor.Qemu.Images;

/// <summary>Builds (or finds in the cache) the guest image.</summary>
public static class GuestImageBuilder
{
    /// <summary>Bump when the image's layout changes, so that old cached images are not reused.</summary>
    private const string FormatVersion = "memvisor-image-1";

    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(2);

    /// <summary>The agent's C source, as embedded.</summary>
    public static byte[] AgentSource => ReadResource("Memvisor.Qemu.Guest.agent.c");

    /// <summary>The guest's /init, as embedded.</summary>
    public static byte[] InitScript => ReadResource("Memvisor.Qemu.Guest.init.sh");

    /// <summary>
    /// Returns the image for this host's inputs from <paramref name="cacheRoot"/> (default
    /// <see cref="GuestImage.DefaultCacheRoot"/>), building it first when it is not there.
    /// </summary>
    /// <exception cref="MissingHostPackageException">A package the image needs is not installed.</exception>
    /// <exception cref="GuestImageException">A build step failed (gcc, busybox); the message says which.</exception>
    public static async Task<GuestImage> BuildAsync(string? cacheRoot = null, CancellationToken cancellationToken = default)
    {
        var kernel = HostTools.RequireGuestKernel();
        var busybox = HostTools.RequireStaticBusybox();
        var gcc = HostTools.RequireGcc();
        var agent = AgentSource;
        var init = InitScript;
        var hash = HashInputs(kernel, busybox, agent, init);
        var root = cacheRoot ?? GuestImage.DefaultCacheRoot;
        var folder = Path.Combine(root, hash[..16]);
        if (File.Exists(Path.Combine(folder, GuestImage.ManifestFileName)))
        {
            return Image(folder, kernel, hash, reused: true);
        }

        var building = Path.Combine(root, $".building-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(building);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GuestImageException($"cannot create the image cache folder {root}: {e.Message}", e);
        }

        try
        {
            var agentBinary = await CompileAgentAsync(gcc, agent, building, cancellationToken).ConfigureAwait(false);
            var applets = await ListAppletsAsync(busybox, cancellationToken).ConfigureAwait(false);
            WriteInitramfs(Path.Combine(building, GuestImage.InitrdFileName), kernel, busybox, applets, agentBinary, init);
            File.Delete(agentBinary);
            File.Delete(Path.Combine(building, "agent.c"));
            File.Copy(kernel.KernelPath, Path.Combine(building, GuestImage.KernelFileName));
            await File.WriteAllTextAsync(
                Path.Combine(building, GuestImage.ManifestFileName),
                $"hash {hash}\nkernel {kernel.Version}\nbusybox {busybox}\nformat {FormatVersion}\n",
                cancellationToken).ConfigureAwait(false);
            try
            {
                Directory.Move(building, folder);
            }
            catch (IOException) when (File.Exists(Path.Combine(folder, GuestImage.ManifestFileName)))
            {
                // Another build of the same inputs finished first: its image is identical.
                Directory.Delete(building, recursive: true);
                return Image(folder, kernel, hash, reused: true);
            }
        }
        catch
        {
            if (Directory.Exists(building))
            {
                Directory.Delete(building, recursive: true);
            }

            throw;
        }

        return Image(folder, kernel, hash, reused: false);
    }

    /// <summary>The SHA-256 (hex) of every input of the image.</summary>
    internal static string HashInputs(GuestKernel kernel, string busybox, byte[] agent, byte[] init)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string label, ReadOnlySpan<byte> bytes)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{label}\0{bytes.Length}\0"));
            hash.AppendData(bytes);
        }

        Add("format", System.Text.Encoding.UTF8.GetBytes(FormatVersion));
        Add("kernel", File.ReadAllBytes(kernel.KernelPath));
        foreach (var module in kernel.Modules)
        {
            Add(Path.GetFileName(module), File.ReadAllBytes(module));
        }

        Add("busybox", File.ReadAllBytes(busybox));
        Add("agent.c", agent);
        Add("init", init);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static GuestImage Image(string folder, GuestKernel kernel, string hash, bool reused) => new(
        folder,
        Path.Combine(folder, GuestImage.KernelFileName),
        Path.Combine(folder, GuestImage.InitrdFileName),
        kernel.Version,
        hash,
        reused);

    private static async Task<string> CompileAgentAsync(string gcc, byte[] source, string folder, CancellationToken cancellationToken)
    {
        var sourcePath = Path.Combine(folder, "agent.c");
        var binary = Path.Combine(folder, "memvisor-agent");
        await File.WriteAllBytesAsync(sourcePath, source, cancellationToken).ConfigureAwait(false);
        var result = await ProgramRunner.RunAsync(gcc, ["-O2", "-static", "-o", binary, sourcePath], ToolTimeout, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            if (result.StandardError.Contains("cannot find -lc", StringComparison.Ordinal))
            {
                throw new MissingHostPackageException(HostPackage.Gcc, "gcc cannot link statically (no static libc)");
            }

            throw new GuestImageException($"gcc could not build the guest agent: {result.FirstErrorLine}");
        }

        return binary;
    }

    private static async Task<IReadOnlyList<string>> ListAppletsAsync(string busybox, CancellationToken cancellationToken)
    {
        var result = await ProgramRunner.RunAsync(busybox, ["--list"], ToolTimeout, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new GuestImageException($"{busybox} --list failed: {result.FirstErrorLine}");
        }

        return [.. result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(a => a != "busybox" && !a.Contains('/', StringComparison.Ordinal))];
    }

    private static void WriteInitramfs(string path, GuestKernel kernel, string busybox, IReadOnlyList<string> applets, string agentBinary, byte[] init)
    {
        const int Executable = 0x1ED; // 0755
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Optimal);
        var archive = new NewcArchive(gzip);
        foreach (var folder in (string[])["bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "lib", "lib/modules"])
        {
            archive.AddDirectory(folder);
        }

        archive.AddCharacterDevice("dev/console", 5, 1);
        archive.AddFile("init", init, Executable);
        archive.AddFile("bin/busybox", File.ReadAllBytes(busybox), Executable);
        foreach (var applet in applets)
        {
            archive.AddSymlink($"bin/{applet}", "busybox");
        }

        archive.AddFile("sbin/memvisor-agent", File.ReadAllBytes(agentBinary), Executable);
        foreach (var module in kernel.Modules)
        {
            archive.AddFile($"lib/modules/{Path.GetFileName(module)}", File.ReadAllBytes(module), 0x1A4);
        }

        archive.Finish();
    }

    private static byte[] ReadResource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"bug: the resource {name} is not embedded");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}

/// <summary>A guest image build step failed.</summary>
public sealed class GuestImageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public GuestImageException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public GuestImageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public GuestImageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
