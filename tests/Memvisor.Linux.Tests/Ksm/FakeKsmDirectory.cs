using Memvisor.Linux.Ksm;

namespace Memvisor.Linux.Tests.Ksm;

/// <summary>A temporary directory standing in for /sys/kernel/mm/ksm, with the files a 6.x kernel has.</summary>
internal sealed class FakeKsmDirectory : IDisposable
{
    public FakeKsmDirectory(long pagesShared = 0, long pagesSharing = 0)
    {
        Path = Directory.CreateTempSubdirectory("memvisor-ksm-test-").FullName;
        Write("run", "0");
        Write("pages_to_scan", "100");
        Write("sleep_millisecs", "20");
        Write("max_page_sharing", "256");
        Write("merge_across_nodes", "1");
        Write("advisor_mode", "[none] scan-time");
        Write("pages_shared", pagesShared.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Write("pages_sharing", pagesSharing.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Write("pages_unshared", "0");
        Write("pages_volatile", "0");
        Write("full_scans", "0");
        Write("ksm_zero_pages", "0");
        JournalFolder = Directory.CreateTempSubdirectory("memvisor-ksm-journals-").FullName;
        JournalPath = KsmJournal.PathFor(JournalFolder, Environment.ProcessId);
    }

    public string Path { get; }

    /// <summary>Where controllers of this directory keep their journals (the host's use the temp folder).</summary>
    public string JournalFolder { get; }

    /// <summary>This process's journal in <see cref="JournalFolder"/>.</summary>
    public string JournalPath { get; }

    public List<(string Knob, string Value)> Writes { get; } = [];

    public KsmSysfs Sysfs() => new(Path, (knob, value) => Writes.Add((knob, value)));

    public string Read(string name) => File.ReadAllText(System.IO.Path.Combine(Path, name)).Trim();

    /// <summary>Replaces a file in one step, so that a concurrent reader never sees it half written.</summary>
    public void Write(string name, string value)
    {
        var target = System.IO.Path.Combine(Path, name);
        var temporary = target + "." + Environment.CurrentManagedThreadId + ".tmp";
        File.WriteAllText(temporary, value + "\n");
        File.Move(temporary, target, overwrite: true);
    }

    public void Dispose()
    {
        Directory.Delete(Path, recursive: true);
        Directory.Delete(JournalFolder, recursive: true);
    }
}
