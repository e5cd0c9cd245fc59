/*
 * Port contract suites: what every implementation of one of Core's ports must do, written once as an
 * abstract xunit class. A substrate's test project derives a class per implementation and says only
 * how to make one; the facts are inherited. Core's tests derive them for the in-memory fakes
 * (Memvisor.Testing.Fakes), the simulator's tests for its native memory, swap file and guest physical
 * memory; a new substrate derives them for its own. A contract its implementation breaks is a finding
 * about the implementation, not a reason to weaken the contract.
 *
 * The machine memory contract (IMachineMemory):
 *   1. PageCount pages of PageSizeBytes bytes each, addressed by MPN 0 .. PageCount-1.
 *   2. A page holds what was last written to it; writing one page changes no other.
 *   3. An MPN outside the pages is refused with ArgumentOutOfRangeException, by GetPage and by Discard
 *      (a substrate that gives backing back must never drop a page it was not asked to).
 *   4. A placement hint is Mpn.None or one of the pages.
 *   5. A discarded page may lose its bytes but stays usable: it holds what is written to it next, and
 *      discarding it changes no other page.
 *   6. ResidentPages stays within 0 .. PageCount, counts each touched page at least once (touching a
 *      page again adds nothing), and returns to its starting value when every touched page is discarded.
 *   7. Zero makes a page read as zeros, whatever it held (written, discarded, never touched), changes no
 *      other page, and counts the page as touched as GetPage does; it refuses an MPN outside the pages.
 */
using Memvisor.Core.Memory;
using Memvisor.Core.Ports;

namespace Memvisor.Testing.Contracts;

/// <summary>What every <see cref="IMachineMemory"/> must do.</summary>
public abstract class MachineMemoryContract
{
    /// <summary>A new machine memory of <paramref name="pageCount"/> pages (disposed by the test if it is disposable).</summary>
    protected abstract IMachineMemory Create(int pageCount);

    [Fact]
    public void It_has_the_pages_asked_for_each_one_page_of_bytes()
    {
        Use(64, memory =>
        {
            Assert.Equal(64, memory.PageCount);
            Assert.Equal(PageGeometry.PageSizeBytes, memory.GetPage(new Mpn(0)).Length);
            Assert.Equal(PageGeometry.PageSizeBytes, memory.GetPage(new Mpn(63)).Length);
        });
    }

    [Fact]
    public void A_page_holds_what_was_written_to_it_and_writing_one_page_changes_no_other()
    {
        Use(16, memory =>
        {
            for (var p = 0u; p < 16; p++)
            {
                TestHost.Pattern((int)p).CopyTo(memory.GetPage(new Mpn(p)));
            }

            TestHost.Pattern(100).CopyTo(memory.GetPage(new Mpn(7)));
            for (var p = 0u; p < 16; p++)
            {
                Assert.Equal(TestHost.Pattern(p == 7 ? 100 : (int)p), memory.GetPage(new Mpn(p)).ToArray());
            }
        });
    }

    [Fact]
    public void An_mpn_outside_the_pages_is_refused()
    {
        Use(16, memory =>
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => memory.GetPage(new Mpn(16)));
            Assert.Throws<ArgumentOutOfRangeException>(() => memory.GetPage(Mpn.None));
            Assert.Throws<ArgumentOutOfRangeException>(() => memory.Discard(new Mpn(16)));
            Assert.Throws<ArgumentOutOfRangeException>(() => memory.Discard(Mpn.None));
        });
    }

    [Fact]
    public void A_placement_hint_is_none_or_one_of_the_pages()
    {
        Use(64, memory =>
        {
            for (var vm = (ushort)0; vm < 4; vm++)
            {
                for (var ppn = 0u; ppn < 256; ppn++)
                {
                    var hint = memory.PreferredPlacement(new VmId(vm), new Ppn(ppn));
                    Assert.True(!hint.IsValid || hint.Value < 64, $"VM {vm} {new Ppn(ppn)}: hint {hint} is outside the 64 pages");
                }
            }
        });
    }

    [Fact]
    public void A_discarded_page_stays_usable_and_discarding_it_changes_no_other_page()
    {
        Use(16, memory =>
        {
            for (var p = 0u; p < 16; p++)
            {
                TestHost.Pattern((int)p).CopyTo(memory.GetPage(new Mpn(p)));
            }

            memory.Discard(new Mpn(5));
            memory.Discard(new Mpn(6));
            TestHost.Pattern(200).CopyTo(memory.GetPage(new Mpn(5)));

            Assert.Equal(TestHost.Pattern(200), memory.GetPage(new Mpn(5)).ToArray());
            for (var p = 0u; p < 16; p++)
            {
                if (p is not 5 and not 6)
                {
                    Assert.Equal(TestHost.Pattern((int)p), memory.GetPage(new Mpn(p)).ToArray());
                }
            }
        });
    }

    [Fact]
    public void Resident_pages_count_touched_pages_once_and_fall_back_when_they_are_discarded()
    {
        Use(64, memory =>
        {
            var fresh = memory.ResidentPages;
            Assert.InRange(fresh, 0, 64);
            for (var p = 0u; p < 10; p++)
            {
                memory.GetPage(new Mpn(p))[0] = 1;
            }

            var touched = memory.ResidentPages;
            Assert.InRange(touched, fresh + 10, 64);
            for (var p = 0u; p < 10; p++)
            {
                memory.GetPage(new Mpn(p))[1] = 2;
            }

            Assert.Equal(touched, memory.ResidentPages);
            for (var p = 0u; p < 10; p++)
            {
                memory.Discard(new Mpn(p));
            }

            Assert.Equal(fresh, memory.ResidentPages);
        });
    }

    [Fact]
    public void Zero_makes_a_page_read_as_zeros_whatever_it_held_and_counts_it_touched()
    {
        Use(16, memory =>
        {
            var zeros = new byte[PageGeometry.PageSizeBytes];
            var fresh = memory.ResidentPages;
            for (var p = 0u; p < 8; p++)
            {
                TestHost.Pattern((int)p).CopyTo(memory.GetPage(new Mpn(p)));
            }

            memory.Discard(new Mpn(2));
            memory.Discard(new Mpn(3));
            TestHost.Pattern(300).CopyTo(memory.GetPage(new Mpn(3)));
            memory.Discard(new Mpn(3));
            var written = memory.ResidentPages;

            memory.Zero(new Mpn(1));
            memory.Zero(new Mpn(2));
            memory.Zero(new Mpn(3));
            memory.Zero(new Mpn(12));
            Assert.Equal(written + 3, memory.ResidentPages);
            memory.Zero(new Mpn(12));
            Assert.Equal(written + 3, memory.ResidentPages);

            foreach (var p in new uint[] { 1, 2, 3, 12 })
            {
                Assert.Equal(zeros, memory.GetPage(new Mpn(p)).ToArray());
            }

            foreach (var p in new uint[] { 0, 4, 5, 6, 7 })
            {
                Assert.Equal(TestHost.Pattern((int)p), memory.GetPage(new Mpn(p)).ToArray());
            }

            // A page zeroed before it was ever handed out, then written, discarded and zeroed again.
            memory.Zero(new Mpn(13));
            TestHost.Pattern(13).CopyTo(memory.GetPage(new Mpn(13)));
            memory.Discard(new Mpn(13));
            memory.Zero(new Mpn(13));
            Assert.Equal(zeros, memory.GetPage(new Mpn(13)).ToArray());
            Assert.InRange(fresh, 0, memory.ResidentPages);
            Assert.Throws<ArgumentOutOfRangeException>(() => memory.Zero(new Mpn(16)));
            Assert.Throws<ArgumentOutOfRangeException>(() => memory.Zero(Mpn.None));
        });
    }

    private void Use(int pageCount, Action<IMachineMemory> test)
    {
        var memory = Create(pageCount);
        try
        {
            test(memory);
        }
        finally
        {
            (memory as IDisposable)?.Dispose();
        }
    }
}
