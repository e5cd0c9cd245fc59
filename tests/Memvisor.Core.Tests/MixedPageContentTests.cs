using Memvisor.Testing;
using Memvisor.Core.Memory;

namespace Memvisor.Core.Tests.Content;

public class MixedPageContentTests
{
    [Theory]
    [InlineData(4000, 0.25, 0.5, 16, 1UL)]
    [InlineData(1000, 0.1, 0.3, 7, 42UL)]
    [InlineData(513, 0.0, 1.0, 3, 5UL)]
    [InlineData(300, 0.5, 0.0, 1, 9UL)]
    public void Expected_sharing_matches_a_brute_force_count_of_equal_pages(int pages, double zero, double duplicate, int distinct, ulong seed)
    {
        var mix = new MixedPageContent(pages, zero, duplicate, distinct, seed);
        var copies = CountCopies(mix);

        foreach (var max in new long[] { 2, 3, 256, long.MaxValue })
        {
            long shared = 0, mapping = 0;
            foreach (var n in copies.Values.Where(n => n >= 2))
            {
                shared += (long)Math.Ceiling(n / (double)max);
                mapping += n;
            }

            Assert.Equal(new SharingExpectation(shared, mapping, mapping - shared), mix.ExpectedWithMaxSharing(max));
        }

        Assert.Equal(mix.ExpectedWithMaxSharing(long.MaxValue), mix.Expected());
    }

    [Fact]
    public void The_default_mix_is_a_quarter_zero_half_duplicates_a_quarter_unique()
    {
        var mix = new MixedPageContent(262_144);

        Assert.Equal(65_536, mix.ZeroPages);
        Assert.Equal(131_072, mix.DuplicatePages);
        Assert.Equal(65_536, mix.UniquePages);
        Assert.Equal(new SharingExpectation(17, 196_608, 196_591), mix.Expected());
        Assert.Equal(new SharingExpectation(768, 196_608, 195_840), mix.ExpectedWithMaxSharing(256));
        var kinds = Enumerable.Range(0, mix.PageCount).GroupBy(mix.KindOf).ToDictionary(g => g.Key, g => g.LongCount());
        Assert.Equal(mix.ZeroPages, kinds[PageContentKind.Zero]);
        Assert.Equal(mix.DuplicatePages, kinds[PageContentKind.Duplicate]);
        Assert.Equal(mix.UniquePages, kinds[PageContentKind.Unique]);
    }

    [Fact]
    public void The_same_seed_gives_the_same_bytes_and_another_seed_other_bytes()
    {
        var a = new MixedPageContent(512, seed: 3);
        var b = new MixedPageContent(512, seed: 3);
        var c = new MixedPageContent(512, seed: 4);

        Assert.Equal(AllBytes(a), AllBytes(b));
        Assert.NotEqual(AllBytes(a), AllBytes(c));
    }

    [Fact]
    public void Pages_are_interleaved_rather_than_laid_out_by_kind()
    {
        var mix = new MixedPageContent(4096);

        // The first quarter would be all zero pages without the shuffle.
        var zerosInFirstQuarter = Enumerable.Range(0, 1024).Count(p => mix.KindOf(p) == PageContentKind.Zero);
        Assert.InRange(zerosInFirstQuarter, 128, 512);
    }

    [Fact]
    public void Fill_rejects_a_destination_that_is_not_one_page()
    {
        var mix = new MixedPageContent(4);

        Assert.Throws<ArgumentException>(() => mix.Fill(0, new byte[100]));
    }

    private static Dictionary<string, int> CountCopies(MixedPageContent mix)
    {
        var copies = new Dictionary<string, int>(StringComparer.Ordinal);
        var page = new byte[PageGeometry.PageSizeBytes];
        for (var i = 0; i < mix.PageCount; i++)
        {
            mix.Fill(i, page);
            var key = Convert.ToBase64String(page);
            copies[key] = copies.GetValueOrDefault(key) + 1;
        }

        return copies;
    }

    private static byte[] AllBytes(MixedPageContent mix)
    {
        var bytes = new byte[mix.PageCount * PageGeometry.PageSizeBytes];
        for (var i = 0; i < mix.PageCount; i++)
        {
            mix.Fill(i, bytes.AsSpan(i * PageGeometry.PageSizeBytes, PageGeometry.PageSizeBytes));
        }

        return bytes;
    }
}
