/*
 * What a real-guest test needs on the host (QEMU, the guest kernel package, a static busybox, gcc),
 * and the shared image those tests boot. A test calls SkipUnlessAvailable first: where something is
 * missing it is skipped with the reason and the install line; everywhere else it runs.
 */
using Memvisor.Qemu.Images;
using Memvisor.Testing;

namespace Memvisor.Qemu.Tests.RealGuests;

internal static class RealGuestRequirements
{
    private static readonly SemaphoreSlim BuildLock = new(1, 1);
    private static GuestImage? _image;

    /// <summary>The cache the tests build their image into (kept between runs: it is rebuilt only when inputs change).</summary>
    public static string CacheRoot => Path.Combine(Path.GetTempPath(), "memvisor-test-images");

    /// <summary>Skips the calling test when the host cannot boot real guests.</summary>
    public static void SkipUnlessAvailable()
    {
        var missing = HostTools.MissingGuestPackages();
        if (missing.Count > 0)
        {
            Assert.Skip($"real guests need {string.Join(", ", missing.Select(HostPackages.NameOf))}: {HostPackages.InstallLine(missing)}");
        }

        RealGuestHostLock.Acquire();
    }

    /// <summary>The image, built once per test run.</summary>
    public static async Task<GuestImage> ImageAsync()
    {
        await BuildLock.WaitAsync();
        try
        {
            return _image ??= await GuestImageBuilder.BuildAsync(CacheRoot, TestContext.Current.CancellationToken);
        }
        finally
        {
            BuildLock.Release();
        }
    }
}
