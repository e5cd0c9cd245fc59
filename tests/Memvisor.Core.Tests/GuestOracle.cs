using Memvisor.Core.Memory;
using Memvisor.Testing;
using Memvisor.Testing.Fakes;
using Memvisor.Core.Ports;

namespace Memvisor.Core.Tests;

/// <summary>
/// The checks of a no-data-loss property test after each step: the manager's consistency check, every
/// resident page's machine bytes equal the oracle's (untouched and ballooned pages: all zero), and every
/// guest mapping agrees with the pmap (writable only when private, unmapped while a sampling trap is armed).
/// </summary>
internal static class GuestOracle
{
    public static void Check(TestHost host, TestGuest[] guests, byte[,][] oracle, int step)
    {
        host.Manager.CheckConsistency();
        for (var v = 0; v < guests.Length; v++)
        {
            var reclaimed = 0;
            var config = host.Manager.ConfigOf(guests[v].Id);
            for (var p = 0u; p < guests[v].PageCount; p++)
            {
                var ppn = new Ppn(p);
                var info = host.Manager.PageInfoOf(guests[v].Id, ppn);
                reclaimed += info.State is PageState.Ballooned or PageState.Swapped ? 1 : 0;
                Assert.True(reclaimed <= config.MaxPages - config.MinPages, $"step {step}: {v} has {reclaimed} pages ballooned or swapped, more than max - min = {config.MaxPages - config.MinPages}: below its min");
                var (access, mpn) = guests[v].MappingOf(ppn);
                if ((info.Marks & PageMarks.Sampled) != 0)
                {
                    Assert.True(access == GuestPageAccess.None, $"step {step}: {v}/{p} has an armed sampling trap but is mapped");
                }

                if (access != GuestPageAccess.None)
                {
                    Assert.True(info.State is PageState.Private or PageState.Shared, $"step {step}: {v}/{p} is mapped but {info.State}");
                    Assert.Equal(info.Mpn, mpn);
                    Assert.True(access == GuestPageAccess.ReadOnly || info.State == PageState.Private, $"step {step}: {v}/{p} shared but writable");
                }

                if (info.State is PageState.Private or PageState.Shared)
                {
                    Assert.True(host.Memory.GetPage(info.Mpn).SequenceEqual(oracle[v, p]), $"step {step}: {v}/{p} ({info.State}) holds wrong bytes");
                }
                else if (info.State is PageState.Untouched or PageState.Ballooned)
                {
                    Assert.True(oracle[v, p].AsSpan().IndexOfAnyExcept((byte)0) < 0, $"step {step}: {v}/{p} lost its data ({info.State})");
                }
            }
        }
    }
}
