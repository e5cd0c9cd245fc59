/*
 * The newc writer checked by an independent reader: the system's cpio (installed with the guest
 * packages) must list every entry with its type and give back each file's bytes.
 */
using System.Text;
using Memvisor.Qemu.Images;
using Memvisor.Qemu.Processes;

namespace Memvisor.Qemu.Tests.Images;

public sealed class NewcArchiveTests
{
    [Fact]
    public async Task Cpio_lists_every_entry_with_its_type_and_returns_each_files_bytes()
    {
        var cpio = HostTools.FindOnPath("cpio");
        if (cpio is null)
        {
            Assert.Skip($"cpio is not installed: {HostPackages.InstallLine([HostPackage.Cpio])}");
        }

        var folder = Directory.CreateTempSubdirectory("memvisor-newc-").FullName;
        try
        {
            var path = Path.Combine(folder, "test.cpio");
            var odd = Encoding.ASCII.GetBytes("five!"); // lengths that are not multiples of 4 exercise the padding
            await using (var file = File.Create(path))
            {
                var archive = new NewcArchive(file);
                archive.AddDirectory("bin");
                archive.AddFile("bin/tool", odd, 0x1ED);
                archive.AddSymlink("bin/sh", "tool");
                archive.AddCharacterDevice("console", 5, 1);
                archive.AddFile("init", "#!/bin/sh\n"u8, 0x1ED);
                archive.Finish();
            }

            var listing = await ProgramRunner.RunAsync("/bin/sh", ["-c", $"{cpio} -itv < {path}"], TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            var lines = listing.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(0, listing.ExitCode);
            Assert.Equal(5, lines.Length);
            Assert.StartsWith("drwxr-xr-x", lines[0], StringComparison.Ordinal);
            Assert.StartsWith("-rwxr-xr-x", lines[1], StringComparison.Ordinal);
            Assert.Contains("bin/sh -> tool", lines[2], StringComparison.Ordinal);
            Assert.StartsWith("crw-------", lines[3], StringComparison.Ordinal);
            Assert.EndsWith("init", lines[4], StringComparison.Ordinal);

            var tool = await ProgramRunner.RunAsync("/bin/sh", ["-c", $"{cpio} -i --to-stdout bin/tool < {path}"], TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            Assert.Equal("five!", tool.StandardOutput);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
