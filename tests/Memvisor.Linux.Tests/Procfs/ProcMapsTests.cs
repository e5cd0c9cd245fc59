using Memvisor.Linux.Procfs;

namespace Memvisor.Linux.Tests.Procfs;

public sealed class ProcMapsTests
{
    [Fact]
    public void A_file_mapping_line_gives_every_field()
    {
        Assert.True(ProcMaps.TryParseLine("7f1c2a3b4000-7f1c2a3b6000 r-xp 0001c000 08:02 173521                     /usr/lib/x86_64-linux-gnu/libc.so.6", out var m));

        Assert.Equal(0x7f1c2a3b4000UL, m.Start);
        Assert.Equal(0x7f1c2a3b6000UL, m.End);
        Assert.Equal(MappingAccess.Read | MappingAccess.Execute, m.Access);
        Assert.Equal(0x1c000UL, m.Offset);
        Assert.Equal("08:02", m.Device);
        Assert.Equal(173521UL, m.Inode);
        Assert.Equal("/usr/lib/x86_64-linux-gnu/libc.so.6", m.Path);
        Assert.Equal(2, m.PageCount);
        Assert.True(m.IsReadable);
        Assert.False(m.IsUnreadableSpecial);
    }

    [Theory]
    [InlineData("55d0c8a4e000-55d0c8a6f000 rw-p 00000000 00:00 0                          [heap]", "[heap]")]
    [InlineData("7ffd1b9e0000-7ffd1ba01000 rw-p 00000000 00:00 0                          [stack]", "[stack]")]
    [InlineData("7f0000000000-7f0000021000 rw-p 00000000 00:00 0 ", "")]
    [InlineData("7f0000000000-7f0000021000 rw-p 00000000 00:00 0", "")]
    [InlineData("7f0000000000-7f0000001000 rw-s 00000000 00:01 1025                       /memfd:ring (deleted)", "/memfd:ring (deleted)")]
    [InlineData("7f0000000000-7f0000001000 r--p 00000000 fd:01 42                         /home/u/my file.bin", "/home/u/my file.bin")]
    public void The_path_is_the_rest_of_the_line_spaces_included(string line, string path)
    {
        Assert.True(ProcMaps.TryParseLine(line, out var m));

        Assert.Equal(path, m.Path);
    }

    [Fact]
    public void Permissions_and_sharing_are_read_from_the_four_letters()
    {
        Assert.True(ProcMaps.TryParseLine("1000-2000 ---p 00000000 00:00 0", out var none));
        Assert.True(ProcMaps.TryParseLine("1000-2000 rw-s 00000000 00:00 0", out var shared));

        Assert.Equal(MappingAccess.None, none.Access);
        Assert.False(none.IsReadable);
        Assert.Equal(MappingAccess.Read | MappingAccess.Write | MappingAccess.Shared, shared.Access);
    }

    [Theory]
    [InlineData("7ffc3a5f2000-7ffc3a5f6000 r--p 00000000 00:00 0                          [vvar]")]
    [InlineData("7ffc3a5f2000-7ffc3a5f3000 r--p 00000000 00:00 0                          [vvar_vclock]")]
    [InlineData("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]")]
    public void Kernel_mappings_that_mem_cannot_read_are_recognised(string line)
    {
        Assert.True(ProcMaps.TryParseLine(line, out var m));

        Assert.True(m.IsUnreadableSpecial);
    }

    [Fact]
    public void The_vdso_is_an_ordinary_readable_mapping()
    {
        Assert.True(ProcMaps.TryParseLine("7ffc3a5f6000-7ffc3a5f8000 r-xp 00000000 00:00 0                          [vdso]", out var m));

        Assert.True(m.IsReadable);
        Assert.False(m.IsUnreadableSpecial);
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("1000-2000 rw-p 00000000 00:00")]
    [InlineData("1000 rw-p 00000000 00:00 0")]
    [InlineData("2000-1000 rw-p 00000000 00:00 0")]
    [InlineData("1000-20g0 rw-p 00000000 00:00 0")]
    [InlineData("1000-2000 rwxq 00000000 00:00 0")]
    [InlineData("1000-2000 rw-pp 00000000 00:00 0")]
    [InlineData("1000-2000 wr-p 00000000 00:00 0")]
    [InlineData("1000-2000 rw-p 0000z000 00:00 0")]
    [InlineData("1000-2000 rw-p 00000000 0000 0")]
    [InlineData("1000-2000 rw-p 00000000 00:00 -1")]
    public void Lines_that_are_not_mappings_are_rejected(string line)
    {
        Assert.False(ProcMaps.TryParseLine(line, out _));
    }

    [Fact]
    public void A_whole_file_parses_line_by_line_and_rejects_a_bad_line()
    {
        const string text = "1000-3000 r--p 00000000 00:00 0\n4000-5000 rw-p 00000000 00:00 0   [heap]\n\n";

        var maps = ProcMaps.Parse(text);

        Assert.Equal([2L, 1L], maps.Select(m => m.PageCount));
        Assert.Throws<FormatException>(() => ProcMaps.Parse(text + "not a mapping\n"));
    }
}
