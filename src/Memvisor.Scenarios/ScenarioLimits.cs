namespace Memvisor.Scenarios;

/// <summary>Bounds on scenario inputs that hold the same whether a value comes from a file or a command-line flag.</summary>
public static class ScenarioLimits
{
    /// <summary>Longest run, simulated seconds (about 116 days).</summary>
    public const double MaxDurationSeconds = 1e7;

    /// <summary>
    /// Fastest share scan, pages per second (per VM and per host): 1e6 pages is 4 GiB hashed and looked up
    /// each second, about what one core can do (ESX's defaults are 50 per VM and 200 per host). The
    /// simulator does the work a scan rate asks for, so an unbounded rate is unbounded run time.
    /// </summary>
    public const double MaxShareScanPagesPerSecond = 1e6;

    /// <summary>Most samples in a run (durationSeconds / sampleIntervalSeconds): every sample is kept for the outputs.</summary>
    public const double MaxSamples = 1_000_000;

    /// <summary>Longest name (of a scenario, VM or image), in characters: names reach file names, tables and terminals.</summary>
    public const int MaxNameLength = 100;

    /// <summary>Longest description, in characters.</summary>
    public const int MaxDescriptionLength = 10_000;

    /// <summary>Longest path (swapDirectory), in characters (Linux's PATH_MAX).</summary>
    public const int MaxPathLength = 4096;

    /// <summary>Largest scenario file read, bytes: a scenario is a few KB; anything this large is not one.</summary>
    public const long MaxFileBytes = 16 * 1024 * 1024;

    /// <summary>Reads a UTF-8 text file of at most <see cref="MaxFileBytes"/> bytes, without reading further than that.</summary>
    /// <exception cref="InvalidDataException">The file is larger, or is not UTF-8 (bytes that are no UTF-8 character were silently replaced before).</exception>
    internal static string ReadBounded(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        using var bytes = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            bytes.Write(buffer, 0, read);
            if (bytes.Length > MaxFileBytes)
            {
                throw new InvalidDataException($"the file is larger than {MaxFileBytes / (1024 * 1024)} MiB; a scenario is a few KB of JSON");
            }
        }

        var content = bytes.GetBuffer().AsSpan(0, (int)bytes.Length);
        if (content is [0xFF, 0xFE, ..] or [0xFE, 0xFF, ..])
        {
            throw new InvalidDataException("the file is UTF-16 text (it starts with a UTF-16 byte-order mark); expected UTF-8: save it as UTF-8");
        }

        if (content.IndexOf((byte)0) is var nul and >= 0)
        {
            throw new InvalidDataException($"the file holds a NUL byte at offset {nul} (line {content[..nul].Count((byte)'\n') + 1}); expected UTF-8 text (a UTF-16 file without a byte-order mark looks like this)");
        }

        var text = new char[content.Length];
        if (System.Text.Unicode.Utf8.ToUtf16(content, text, out var valid, out var written, replaceInvalidSequences: false) != System.Buffers.OperationStatus.Done)
        {
            var line = content[..valid].Count((byte)'\n') + 1;
            throw new InvalidDataException($"the file is not UTF-8 text: byte 0x{content[valid]:X2} at offset {valid} (line {line}) starts no UTF-8 character; expected a UTF-8 file");
        }

        return new string(text, 0, written).TrimStart('\uFEFF');
    }
}
