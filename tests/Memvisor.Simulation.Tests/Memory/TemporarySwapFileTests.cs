using Memvisor.Simulation.Memory;
using Memvisor.Testing;

namespace Memvisor.Simulation.Tests.Memory;

/// <summary>A run's temporary swap file never outlives the run, however the run ends.</summary>
public sealed class TemporarySwapFileTests : IDisposable
{
    private readonly OutputFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_temporary_swap_file_has_no_name_on_disk_even_while_it_is_in_use()
    {
        // Deleting on close leaves the file behind when the process is killed; with no name there is nothing to leave.
        using var swap = SwapFile.CreateTemporary(_dir.Path);
        var page = new byte[4096];
        page[7] = 42;
        swap.Write(8192, page);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Path));

        var back = new byte[4096];
        swap.Read(8192, back);
        Assert.Equal(42, back[7]);
    }

    [Fact]
    public void A_temporary_swap_file_in_a_folder_that_does_not_exist_is_a_clear_error()
    {
        Assert.Throws<DirectoryNotFoundException>(() => SwapFile.CreateTemporary(Path.Combine(_dir.Path, "missing")));
    }
}
