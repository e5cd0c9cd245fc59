/*
 * `scan-file`: `memvisor scan FILE` of a file of mixed pages as a whole process, against the rate at
 * which this process reads the same bytes from memory, in one run (issue 15: the scan should reach half
 * the memory-read page rate). The file is the benchmark buffer (MixedPageContent: a quarter zero, half
 * copies of 16 contents, a quarter unique) written to the temp folder, so it is in the page cache when
 * the scans run. Each run starts every given memvisor binary once, in turn (so that before and after
 * builds see the same load); wall time is from start to exit, CPU time is the child's user + system
 * time (getrusage(RUSAGE_CHILDREN)). The plain read (median of 5 passes over an anonymous mapping of
 * the same content, one core) is measured before and after the scans. On a loaded machine a scan's
 * wall time is mostly waiting for a core; the bound printed from its CPU time (CPU s / cores) says
 * what the same work would take with every core its own.
 */
using System.Diagnostics;
using System.Globalization;
using Memvisor.Benchmarks.Buffer;
using Memvisor.Core.Memory;
using Memvisor.Linux.Procfs;
using Memvisor.Native;

namespace Memvisor.Benchmarks.ScanFile;

internal static class ScanFileCommand
{
    private const string Usage = """
        usage: Memvisor.Benchmarks scan-file [options]
          --megabytes N    size of the file of mixed pages (default 1024)
          --runs N         runs; each starts every binary once (default 3)
          --memvisor PATH  a memvisor binary to time (repeatable; default: src/Memvisor.Cli's Release build)
        """;

    public static int Run(string[] args)
    {
        var megabytes = 1024;
        var runs = 3;
        var binaries = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--megabytes" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var mb) && mb > 0:
                    megabytes = mb;
                    i++;
                    break;
                case "--runs" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0:
                    runs = n;
                    i++;
                    break;
                case "--memvisor" when value is not null:
                    binaries.Add(Path.GetFullPath(value));
                    i++;
                    break;
                default:
                    Console.Error.WriteLine($"scan-file: bad option '{args[i]}'.");
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }

        if (binaries.Count == 0)
        {
            binaries.Add(DefaultBinary());
        }

        foreach (var binary in binaries.Where(b => !File.Exists(b)))
        {
            Console.Error.WriteLine($"scan-file: no memvisor binary at '{binary}' (build src/Memvisor.Cli -c Release, or give --memvisor PATH).");
            return 2;
        }

        var c = CultureInfo.InvariantCulture;
        var loadAtStart = MachineLoad.LoadAverage();
        using var buffer = MixedContentMapping.Create(megabytes);
        var pages = buffer.PageCount;
        var readBefore = ReadPagesPerSecond(buffer);
        var file = Path.Combine(Path.GetTempPath(), $"memvisor-scan-file-{Environment.ProcessId}.mem");
        try
        {
            WriteFile(buffer, file);
            var results = binaries.ToDictionary(b => b, _ => new List<(double Wall, double Cpu)>());
            for (var r = 0; r < runs; r++)
            {
                foreach (var binary in binaries)
                {
                    results[binary].Add(TimeScan(binary, file));
                }
            }

            var readAfter = ReadPagesPerSecond(buffer);
            var read = (readBefore + readAfter) / 2;
            Console.WriteLine(string.Create(c, $"machine: {HostDescription.Line()}; load {loadAtStart} -> {MachineLoad.LoadAverage()}"));
            Console.WriteLine(string.Create(c, $"file: {megabytes} MiB, {pages} pages of mixed content (in the page cache)"));
            Console.WriteLine(string.Create(c, $"plain memory read, one core: {readBefore:N0} pages/s before the scans, {readAfter:N0} after; mean {read:N0}"));
            foreach (var binary in binaries)
            {
                Console.WriteLine(string.Create(c, $"{binary}:"));
                Console.WriteLine("  run  wall s  cpu s  pages/s (wall)  x plain read  pages per cpu s");
                var list = results[binary];
                for (var r = 0; r < list.Count; r++)
                {
                    var (wall, cpu) = list[r];
                    Console.WriteLine(string.Create(c, $"  {r + 1,3}  {wall,6:F3}  {cpu,5:F3}  {pages / wall,14:N0}  {pages / wall / read,12:F2}  {pages / cpu,15:N0}"));
                }

                var medianWall = list.Select(x => x.Wall).Order().ElementAt(list.Count / 2);
                var medianCpu = list.Select(x => x.Cpu).Order().ElementAt(list.Count / 2);
                var cores = Environment.ProcessorCount;
                Console.WriteLine(string.Create(c, $"  median: {pages / medianWall:N0} pages/s = {pages / medianWall / read:F2}x the plain read"));
                Console.WriteLine(string.Create(c, $"  median cpu {medianCpu:F3} s: with all {cores} cores its own and no wait, at most {pages / (medianCpu / cores) / read:F2}x the plain read (a bound, not a measurement)"));
            }

            return 0;
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static (double Wall, double Cpu) TimeScan(string binary, string file)
    {
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("scan");
        start.ArgumentList.Add(file);
        start.ArgumentList.Add("--json");
        var cpuBefore = CpuClock.ChildrenCpuNanoseconds();
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{binary} did not start.");
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var wall = clock.Elapsed.TotalSeconds;
        var cpu = (CpuClock.ChildrenCpuNanoseconds() - cpuBefore) / 1e9;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{binary} scan exited {process.ExitCode}: {stderr.Result}");
        }

        Console.Error.WriteLine($"{binary}: {wall:F3} s wall, {cpu:F3} s cpu");
        return (wall, cpu);
    }

    private static double ReadPagesPerSecond(MixedContentMapping buffer)
    {
        var times = new List<double>();
        var sink = 0UL;
        for (var i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            sink += ReadBandwidth.ReadAll(buffer.Mapping);
            times.Add(clock.Elapsed.TotalSeconds);
        }

        GC.KeepAlive(sink);
        return buffer.PageCount / times.Order().ElementAt(2);
    }

    private static void WriteFile(MixedContentMapping buffer, string path)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 1 << 20);
        for (var page = 0; page < buffer.PageCount; page++)
        {
            stream.Write(buffer.Mapping.Page(page));
        }
    }

    private static string DefaultBinary()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Memvisor.slnx")))
        {
            dir = dir.Parent;
        }

        return Path.Combine(dir?.FullName ?? ".", "src", "Memvisor.Cli", "bin", "Release", "net10.0", "memvisor");
    }
}
