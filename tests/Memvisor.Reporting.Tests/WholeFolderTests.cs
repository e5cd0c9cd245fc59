using Memvisor.Testing;

namespace Memvisor.Reporting.Tests;

/// <summary>A run's output folder holds one complete run or none, whatever happens while it is written.</summary>
public sealed class WholeFolderTests : IDisposable
{
    private readonly OutputFolder _root = new();

    public void Dispose() => _root.Dispose();

    private string Dest => _root.Full("out");

    [Fact]
    public void A_new_folder_gets_everything_written_and_no_staging_folder_is_left()
    {
        WholeFolder.Write(Dest, dir => File.WriteAllText(Path.Combine(dir, RunOutputs.SummaryJsonFile), "new"), TestContext.Current.CancellationToken);
        Assert.Equal("new", File.ReadAllText(Path.Combine(Dest, RunOutputs.SummaryJsonFile)));
        Assert.Equal(["out"], Directory.EnumerateFileSystemEntries(_root.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void A_failure_while_writing_leaves_the_earlier_run_as_it_was()
    {
        WriteEarlierRun();
        Assert.Throws<IOException>(() => WholeFolder.Write(Dest, dir =>
        {
            File.WriteAllText(Path.Combine(dir, RunOutputs.SummaryJsonFile), "half");
            throw new IOException("No space left on device");
        }, TestContext.Current.CancellationToken));
        AssertEarlierRunIntact();
    }

    [Fact]
    public void A_cancellation_while_writing_leaves_the_earlier_run_as_it_was()
    {
        WriteEarlierRun();
        using var cts = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => WholeFolder.Write(Dest, dir =>
        {
            File.WriteAllText(Path.Combine(dir, RunOutputs.SummaryJsonFile), "new");
            cts.Cancel();
        }, cts.Token));
        AssertEarlierRunIntact();
    }

    [Fact]
    public void A_second_run_replaces_the_first_whole()
    {
        WriteEarlierRun();
        WholeFolder.Write(Dest, dir => File.WriteAllText(Path.Combine(dir, RunOutputs.SummaryJsonFile), "new"), TestContext.Current.CancellationToken);
        Assert.Equal([RunOutputs.SummaryJsonFile], Directory.EnumerateFileSystemEntries(Dest).Select(Path.GetFileName));
        Assert.Equal("new", File.ReadAllText(Path.Combine(Dest, RunOutputs.SummaryJsonFile)));
        Assert.Equal(["out"], Directory.EnumerateFileSystemEntries(_root.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Only_new_empty_or_earlier_run_folders_may_be_replaced()
    {
        Assert.Null(WholeFolder.CheckReplaceable(Dest));
        Directory.CreateDirectory(Dest);
        Assert.Null(WholeFolder.CheckReplaceable(Dest));
        WriteEarlierRun();
        Assert.Null(WholeFolder.CheckReplaceable(Dest));
        File.WriteAllText(Path.Combine(Dest, "thesis.tex"), "mine");
        Assert.Contains("thesis.tex", WholeFolder.CheckReplaceable(Dest), StringComparison.Ordinal);
        var file = _root.Full("file");
        File.WriteAllText(file, "x");
        Assert.Equal("it is a file, not a folder", WholeFolder.CheckReplaceable(file));
        Assert.Contains("does not exist", WholeFolder.CheckReplaceable(_root.Full("no/such/out")), StringComparison.Ordinal);
    }

    private void WriteEarlierRun()
    {
        Directory.CreateDirectory(Path.Combine(Dest, RunOutputs.ChartsFolder));
        File.WriteAllText(Path.Combine(Dest, RunOutputs.SummaryJsonFile), "earlier");
        File.WriteAllText(Path.Combine(Dest, RunOutputs.ChartsFolder, "a.svg"), "<svg/>");
    }

    private void AssertEarlierRunIntact()
    {
        Assert.Equal("earlier", File.ReadAllText(Path.Combine(Dest, RunOutputs.SummaryJsonFile)));
        Assert.Equal("<svg/>", File.ReadAllText(Path.Combine(Dest, RunOutputs.ChartsFolder, "a.svg")));
        Assert.Equal(["out"], Directory.EnumerateFileSystemEntries(_root.Path).Select(Path.GetFileName));
    }
}
