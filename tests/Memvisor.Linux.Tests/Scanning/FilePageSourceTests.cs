using Memvisor.Core.Memory;
using Memvisor.Core.Sharing;
using Memvisor.Linux.Scanning;
using Memvisor.Testing;

namespace Memvisor.Linux.Tests.Scanning;

public sealed class FilePageSourceTests : IDisposable
{
    private const int PageSize = PageGeometry.PageSizeBytes;
    private readonly string _dir = Directory.CreateTempSubdirectory("memvisor-scan-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_short_last_page_is_padded_with_zeros()
    {
        var x = TestPages.Filled(7);
        var path = Write("short.bin", [.. x, .. x.AsSpan(0, 100)]);
        using var file = FilePageSource.Open(path);
        var buffer = new byte[2 * PageSize];
        buffer.AsSpan().Fill(0xEE);

        var run = file.ReadPages(0, buffer);

        Assert.Equal(2, file.PageCount);
        Assert.Equal(PageRun.Read(2), run);
        Assert.Equal(x, buffer[..PageSize]);
        Assert.Equal(x.AsSpan(0, 100).ToArray(), buffer[PageSize..(PageSize + 100)]);
        Assert.True(buffer.AsSpan((PageSize + 100)..).IndexOfAnyExcept((byte)0) < 0, "the padding is zero");
        Assert.Equal(PageSize - 100, file.Facts.PaddingBytes);
    }

    [Fact]
    public void The_padded_last_page_reads_the_same_alone_and_shares_with_an_equal_page()
    {
        var x = TestPages.Filled(8);
        var half = x.AsSpan(0, PageSize / 2).ToArray();
        var full = new byte[PageSize];
        half.CopyTo(full, 0);
        var path = Write("dump.bin", [.. x, .. full, .. x, .. half]); // pages: x, half+zeros, x, half (padded)
        using var file = FilePageSource.Open(path);

        var estimate = Estimator.Run([file]);

        Assert.Equal(4, estimate.Total.PagesScanned);
        Assert.Equal(4, estimate.Total.SharingPages);
        Assert.Equal(2, estimate.Total.SharedFrames);
        Assert.Equal(2 * PageSize, estimate.Total.BytesSaved);
        Assert.Equal(PageSize / 2, estimate.Total.Facts.PaddingBytes);
    }

    [Fact]
    public void A_whole_number_of_pages_needs_no_padding_and_reads_in_runs()
    {
        var pages = Enumerable.Range(0, 3).Select(TestPages.Filled).ToArray();
        var path = Write("exact.bin", [.. pages.SelectMany(p => p)]);
        using var file = FilePageSource.Open(path);
        var one = new byte[PageSize];

        Assert.Equal(3, file.PageCount);
        Assert.Equal(0, file.Facts.PaddingBytes);
        Assert.Equal(PageRun.Read(1), file.ReadPages(2, one));
        Assert.Equal(pages[2], one);
        Assert.Equal(PageRun.Read(2), file.ReadPages(1, new byte[4 * PageSize]));
    }

    [Fact]
    public void A_file_truncated_after_it_was_opened_reads_its_lost_pages_as_unreadable_never_as_zeros()
    {
        var pages = Enumerable.Range(1, 4 * SharingEstimator.BatchPages).Select(TestPages.Filled).ToArray();
        var path = Write("shrinking.bin", [.. pages.SelectMany(p => p)]);
        using var file = FilePageSource.Open(path);
        var buffer = new byte[SharingEstimator.BatchPages * PageSize];
        Assert.Equal(PageRun.Read(SharingEstimator.BatchPages), file.ReadPages(0, buffer));

        using (var writer = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            writer.SetLength((SharingEstimator.BatchPages + 10) * PageSize);
        }

        Assert.Equal(PageRun.Read(10), file.ReadPages(SharingEstimator.BatchPages, buffer));
        Assert.Equal(pages[SharingEstimator.BatchPages + 9], buffer[(9 * PageSize)..(10 * PageSize)]);
        var lost = file.ReadPages(SharingEstimator.BatchPages + 10, buffer);
        Assert.False(lost.Readable);
        Assert.Equal(file.PageCount - SharingEstimator.BatchPages - 10, lost.Count);

        var estimate = Estimator.Run([file]);

        Assert.Equal(file.PageCount, estimate.Total.PagesScanned + estimate.Total.UnreadablePages);
        Assert.Equal(SharingEstimator.BatchPages + 10, estimate.Total.PagesScanned);
        Assert.Equal(0, estimate.Total.ZeroPages);
    }

    [Fact]
    public void An_empty_file_has_no_pages()
    {
        using var file = FilePageSource.Open(Write("empty.bin", []));

        Assert.Equal(0, file.PageCount);
        Assert.Equal(0, Estimator.Run([file]).Total.PagesScanned);
    }

    [Fact]
    public void A_missing_file_a_directory_and_an_empty_name_are_named_errors()
    {
        var missing = Path.Combine(_dir, "nope.bin");

        var notFound = Assert.Throws<ScanSourceException>(() => FilePageSource.Open(missing));
        var directory = Assert.Throws<ScanSourceException>(() => FilePageSource.Open(_dir));
        var empty = Assert.Throws<ScanSourceException>(() => FilePageSource.Open(string.Empty));

        Assert.Equal(ScanSourceProblem.NotFound, notFound.Problem);
        Assert.Contains(missing, notFound.Message, StringComparison.Ordinal);
        Assert.Equal(ScanSourceProblem.NotAFile, directory.Problem);
        Assert.Contains("directory", directory.Message, StringComparison.Ordinal);
        Assert.Equal(ScanSourceProblem.NotFound, empty.Problem);
    }

    [Fact]
    public void A_file_named_twice_is_scanned_once()
    {
        var path = Write("twice.bin", [.. TestPages.Filled(9)]);

        using var set = ScanSourceSet.Open([path, Path.Combine(_dir, ".", "twice.bin")], [], Environment.ProcessId);

        Assert.Single(set.Sources);
        Assert.Null(set.AllProcesses);
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
