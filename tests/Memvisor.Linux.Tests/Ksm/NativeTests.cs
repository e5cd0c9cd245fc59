using Memvisor.Core.Memory;
using Memvisor.Native;

namespace Memvisor.Linux.Tests.Ksm;

public class NativeTests
{
    [Fact]
    public void The_errno_exception_names_the_errno_and_the_call()
    {
        var error = new ErrnoException("madvise(MADV_MERGEABLE)", 22);

        Assert.Equal(22, error.Errno);
        Assert.Equal("EINVAL", error.ErrnoName);
        Assert.Equal("madvise(MADV_MERGEABLE)", error.Call);
        Assert.StartsWith("madvise(MADV_MERGEABLE) failed: EINVAL", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1, "EPERM")]
    [InlineData(12, "ENOMEM")]
    [InlineData(40, "ELOOP")]
    [InlineData(95, "EOPNOTSUPP")]
    [InlineData(4095, "errno 4095")]
    [InlineData(-3, "errno -3")]
    public void Errno_names_follow_the_linux_table(int errno, string name) => Assert.Equal(name, ErrnoNames.NameOf(errno));

    [Fact]
    public void A_pinned_thread_may_run_only_on_its_cpu_and_a_missing_thread_is_an_errno_exception()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "sched_setaffinity is Linux's");
        static string AllowedCpus() =>
            File.ReadLines("/proc/thread-self/status").Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))["Cpus_allowed_list:".Length..].Trim();

        // The last CPU this process may use (a container may allow only some).
        var cpu = int.Parse(AllowedCpus().Split(',', '-')[^1], System.Globalization.CultureInfo.InvariantCulture);
        string? allowed = null;
        // A thread of its own, so that the test runner's threads keep their affinity.
        var thread = new Thread(() =>
        {
            CpuAffinity.PinThread(0, cpu);
            allowed = AllowedCpus();
        });
        thread.Start();
        thread.Join();

        Assert.Equal($"{cpu}", allowed);
        var error = Assert.Throws<ErrnoException>(() => CpuAffinity.PinThread(int.MaxValue, 0));
        Assert.Equal("ESRCH", error.ErrnoName);
        Assert.Contains("sched_setaffinity", error.Call, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failing_madvise_raises_an_errno_exception_with_einval()
    {
        using var mapping = AnonymousMapping.Create(2);

        var error = Assert.Throws<ErrnoException>(() => mapping.Advise((MemoryAdvice)12345));

        Assert.Equal("EINVAL", error.ErrnoName);
        Assert.Contains("madvise", error.Call, StringComparison.Ordinal);
    }

    [Fact]
    public void An_anonymous_mapping_is_zero_filled_writable_and_unusable_after_dispose()
    {
        var mapping = AnonymousMapping.Create(3);
        Assert.Equal(3 * PageGeometry.PageSizeBytes, mapping.LengthBytes);
        Assert.True(mapping.Page(2).IndexOfAnyExcept((byte)0) < 0);

        mapping.Page(1)[10] = 7;
        Assert.Equal(7, mapping.Page(1)[10]);
        mapping.Advise(MemoryAdvice.DontNeed, 1, 1);
        Assert.Equal(0, mapping.Page(1)[10]);
        Assert.Throws<ArgumentOutOfRangeException>(() => mapping.Page(3));

        mapping.Dispose();
        Assert.True(mapping.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => mapping.Page(0));
    }

    [Fact]
    public void Advising_scattered_pages_in_one_call_drops_exactly_those_pages()
    {
        using var mapping = AnonymousMapping.Create(8);
        for (var page = 0; page < 8; page++)
        {
            mapping.Page(page).Fill((byte)(page + 1));
        }

        mapping.AdvisePages(MemoryAdvice.DontNeed, [1, 3, 6]);

        for (var page = 0; page < 8; page++)
        {
            var expected = page is 1 or 3 or 6 ? (byte)0 : (byte)(page + 1);
            Assert.True(mapping.Page(page).IndexOfAnyExcept(expected) < 0, $"page {page}");
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => mapping.AdvisePages(MemoryAdvice.DontNeed, [8]));
    }

    [Fact]
    public void Cpu_clocks_advance_with_work()
    {
        var processBefore = CpuClock.ProcessCpuNanoseconds();
        var threadBefore = CpuClock.ThreadCpuNanoseconds();
        var sink = 0UL;
        for (var i = 0UL; i < 20_000_000; i++)
        {
            sink += i * i;
        }

        GC.KeepAlive(sink);
        Assert.True(CpuClock.ThreadCpuNanoseconds() > threadBefore);
        Assert.True(CpuClock.ProcessCpuNanoseconds() > processBefore);
        Assert.InRange(CpuClock.ClockTicksPerSecond(), 1, 100_000);
    }
}
