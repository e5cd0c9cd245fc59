/*
 * The knobs and counters of Linux KSM in /sys/kernel/mm/ksm (Documentation/admin-guide/mm/ksm.rst).
 *
 * Each knob is a small text file holding one value. The directory is injectable so that tests can
 * stand a temporary directory in for sysfs. Writes open with truncation: sysfs ignores it, and a
 * plain file in a test then holds exactly the value written.
 */
using System.Globalization;
using System.Text;

namespace Memvisor.Linux.Ksm;

/// <summary>Names of the KSM sysfs files Memvisor reads or writes.</summary>
public static class KsmKnob
{
    /// <summary>0: stop ksmd, keep merged pages; 1: run ksmd; 2: stop ksmd and unmerge all merged pages.</summary>
    public const string Run = "run";

    /// <summary>Pages ksmd scans per batch.</summary>
    public const string PagesToScan = "pages_to_scan";

    /// <summary>Milliseconds ksmd sleeps between batches.</summary>
    public const string SleepMilliseconds = "sleep_millisecs";

    /// <summary>The most pages one KSM page may back before KSM starts another copy (a "dup").</summary>
    public const string MaxPageSharing = "max_page_sharing";

    /// <summary>KSM pages in use (one per distinct merged content, per max_page_sharing dup).</summary>
    public const string PagesShared = "pages_shared";

    /// <summary>Further pages mapping a KSM page: the pages saved.</summary>
    public const string PagesSharing = "pages_sharing";

    /// <summary>Pages scanned but unique so far.</summary>
    public const string PagesUnshared = "pages_unshared";

    /// <summary>Pages changing too fast to merge.</summary>
    public const string PagesVolatile = "pages_volatile";

    /// <summary>Completed passes over all mergeable memory.</summary>
    public const string FullScans = "full_scans";

    /// <summary>Empty pages merged into the kernel's zero page (only with use_zero_pages=1; absent on old kernels).</summary>
    public const string KsmZeroPages = "ksm_zero_pages";

    /// <summary>1: merge zero pages with the kernel's zero page, counted in ksm_zero_pages (a knob).</summary>
    public const string UseZeroPages = "use_zero_pages";
}

/// <summary>Reads and writes the files of a KSM sysfs directory.</summary>
public sealed class KsmSysfs
{
    /// <summary>Where the kernel puts KSM's knobs.</summary>
    public const string DefaultDirectory = "/sys/kernel/mm/ksm";

    private readonly Action<string, string>? _onWrite;

    /// <summary>Uses the KSM directory <paramref name="directory"/>; <paramref name="onWrite"/> hears of every write (file, value).</summary>
    public KsmSysfs(string directory = DefaultDirectory, Action<string, string>? onWrite = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = directory;
        _onWrite = onWrite;
    }

    /// <summary>The directory read and written.</summary>
    public string Directory { get; }

    /// <summary>Why KSM cannot be driven through <paramref name="directory"/>, or null when it can.</summary>
    public static string? WhyNotWritable(string directory = DefaultDirectory)
    {
        var run = Path.Combine(directory, KsmKnob.Run);
        if (!File.Exists(run))
        {
            return $"{run} does not exist: this kernel has no KSM (CONFIG_KSM) or sysfs is not mounted.";
        }

        try
        {
            using var stream = new FileStream(run, FileMode.Open, FileAccess.ReadWrite);
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return $"{run} is not writable: run as root to compare with Linux KSM.";
        }
        catch (IOException e)
        {
            return $"{run} cannot be opened for writing: {e.Message}";
        }
    }

    /// <summary>True when the file <paramref name="name"/> exists.</summary>
    public bool Has(string name) => File.Exists(PathOf(name));

    /// <summary>The trimmed text of <paramref name="name"/>.</summary>
    public string Read(string name) => File.ReadAllText(PathOf(name), Encoding.ASCII).Trim();

    /// <summary>The number in <paramref name="name"/>.</summary>
    public long ReadNumber(string name)
    {
        var text = Read(name);
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"{PathOf(name)} holds '{text}', not a number.");
    }

    /// <summary>The number in <paramref name="name"/>, or null when the file does not exist.</summary>
    public long? ReadNumberIfPresent(string name) => Has(name) ? ReadNumber(name) : null;

    /// <summary>Writes <paramref name="value"/> to <paramref name="name"/>.</summary>
    public void Write(string name, string value)
    {
        _onWrite?.Invoke(name, value);
        using var stream = new FileStream(PathOf(name), FileMode.Truncate, FileAccess.Write);
        stream.Write(Encoding.ASCII.GetBytes(value + "\n"));
    }

    /// <summary>The path of <paramref name="name"/>.</summary>
    public string PathOf(string name) => Path.Combine(Directory, name);
}
