/*
 * The benchmark buffer: an anonymous mapping (what Linux KSM can merge) filled with a MixedPageContent.
 * Every benchmark and the KSM side-by-side use this same buffer, so their figures describe the same
 * bytes at the same addresses.
 */
using Memvisor.Testing;
using Memvisor.Core.Memory;
using Memvisor.Native;

namespace Memvisor.Benchmarks.Buffer;

/// <summary>An anonymous mapping holding a deterministic mix of zero, duplicate and unique pages.</summary>
internal sealed class MixedContentMapping : IDisposable
{
    private MixedContentMapping(AnonymousMapping mapping, MixedPageContent content)
    {
        Mapping = mapping;
        Content = content;
    }

    /// <summary>The memory.</summary>
    public AnonymousMapping Mapping { get; }

    /// <summary>What each page holds, and the ideal sharing outcome.</summary>
    public MixedPageContent Content { get; }

    /// <summary>Pages in the buffer.</summary>
    public int PageCount => Content.PageCount;

    /// <summary>Maps and fills <paramref name="megabytes"/> MiB with the default mix for <paramref name="seed"/>.</summary>
    public static MixedContentMapping Create(int megabytes, ulong seed = 1)
    {
        var pages = checked((int)PageGeometry.PagesFromMegabytes(megabytes));
        var content = new MixedPageContent(pages, seed: seed);
        var mapping = AnonymousMapping.Create(pages);
        var buffer = new MixedContentMapping(mapping, content);
        buffer.Refill();
        return buffer;
    }

    /// <summary>Writes every page's content again (after a run changed or released pages).</summary>
    public void Refill()
    {
        for (var page = 0; page < PageCount; page++)
        {
            Content.Fill(page, Mapping.Page(page));
        }
    }

    /// <inheritdoc/>
    public void Dispose() => Mapping.Dispose();
}
