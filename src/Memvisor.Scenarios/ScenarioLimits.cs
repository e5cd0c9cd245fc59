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
    /// <exception cref="InvalidDataException">The file is larger.</exception>
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

        return new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetString(bytes.GetBuffer(), 0, (int)bytes.Length).TrimStart('\uFEFF');
    }
}
