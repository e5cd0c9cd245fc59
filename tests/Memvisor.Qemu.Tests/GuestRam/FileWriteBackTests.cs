/*
 * FileWriteBack (the pager's write-back of file-backed guest RAM): cachestat counts a file's cached and
 * dirty pages, and WriteBack leaves the ranges given clean (on disk) and still cached, the rest of the
 * file untouched.
 */
using Memvisor.Native;

namespace Memvisor.Qemu.Tests.GuestRam;

public sealed class FileWriteBackTests
{
    private const long MiB = 1L << 20;

    [Fact]
    public void Write_back_cleans_exactly_the_ranges_given_and_leaves_them_cached()
    {
        var path = Path.Combine(AppContext.BaseDirectory, $"{Guid.NewGuid():N}.writeback");
        try
        {
            using (var writer = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
            {
                writer.Write(new byte[8 * MiB].Select((_, i) => (byte)(i / 4096)).ToArray());
            }

            using var file = FileWriteBack.Open(path);
            var written = file.Cache();
            file.WriteBack([(0, 2 * MiB), (4 * MiB, 2 * MiB)]);
            var after = file.Cache();
            var firstRange = file.Cache(0, 2 * MiB);

            Assert.Equal(2048, written.CachedPages);
            Assert.Equal(2048, written.DirtyPages);
            Assert.Equal(2048, after.CachedPages);
            Assert.Equal(1024, after.DirtyPages);
            Assert.Equal(new FileCacheState(512, 0, 0, 0, 0), firstRange);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_missing_file_cannot_be_opened()
    {
        Assert.Throws<FileNotFoundException>(() => FileWriteBack.Open(Path.Combine(AppContext.BaseDirectory, "no-such-file.writeback")));
    }
}
