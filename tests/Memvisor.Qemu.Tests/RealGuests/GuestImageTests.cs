/*
 * `memvisor host image` on this host's packages: the initramfs holds what /init needs, and a second
 * build with the same inputs reuses the cached image instead of building again.
 */
using System.IO.Compression;
using Memvisor.Qemu.Images;
using Memvisor.Qemu.Processes;

namespace Memvisor.Qemu.Tests.RealGuests;

[Collection(RealGuestGroup.Name)]
public sealed class GuestImageTests
{
    [Fact]
    public async Task The_image_is_built_once_holds_init_agent_busybox_and_modules_and_is_reused_unchanged()
    {
        RealGuestRequirements.SkipUnlessAvailable();
        var ct = TestContext.Current.CancellationToken;
        var cache = Directory.CreateTempSubdirectory("memvisor-image-cache-").FullName;
        try
        {
            var first = await GuestImageBuilder.BuildAsync(cache, ct);
            var written = File.GetLastWriteTimeUtc(first.InitrdPath);
            var second = await GuestImageBuilder.BuildAsync(cache, ct);

            Assert.False(first.Reused);
            Assert.True(second.Reused);
            Assert.Equal(first.Folder, second.Folder);
            Assert.Equal(written, File.GetLastWriteTimeUtc(second.InitrdPath));
            Assert.Single(Directory.GetDirectories(cache));

            var cpio = Path.Combine(cache, "initrd.cpio");
            await using (var gz = new GZipStream(File.OpenRead(first.InitrdPath), CompressionMode.Decompress))
            await using (var raw = File.Create(cpio))
            {
                await gz.CopyToAsync(raw, ct);
            }

            if (HostTools.FindOnPath("cpio") is { } tool)
            {
                var listing = await ProgramRunner.RunAsync("/bin/sh", ["-c", $"{tool} -it < {cpio}"], TimeSpan.FromSeconds(30), ct);
                var entries = listing.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
                Assert.Superset(new HashSet<string> { "init", "sbin/memvisor-agent", "bin/busybox", "bin/sh", "bin/insmod", "dev/console", "lib/modules/virtio_balloon.ko" }, entries);
            }
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [Fact]
    public void A_changed_agent_source_changes_the_image_hash()
    {
        RealGuestRequirements.SkipUnlessAvailable();
        var kernel = HostTools.RequireGuestKernel();
        var busybox = HostTools.RequireStaticBusybox();
        var agent = GuestImageBuilder.AgentSource;

        var original = GuestImageBuilder.HashInputs(kernel, busybox, agent, GuestImageBuilder.InitScript);
        var changed = GuestImageBuilder.HashInputs(kernel, busybox, [.. agent, (byte)'\n'], GuestImageBuilder.InitScript);

        Assert.NotEqual(original, changed);
        Assert.Equal(original, GuestImageBuilder.HashInputs(kernel, busybox, agent, GuestImageBuilder.InitScript));
    }
}
