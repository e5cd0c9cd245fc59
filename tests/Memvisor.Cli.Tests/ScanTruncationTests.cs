using System.Globalization;
using System.Text.Json;

namespace Memvisor.Cli.Tests;

/// <summary>
/// `memvisor scan FILE` while another process truncates the file: the scan must finish and report, and
/// the pages it could no longer read must be counted as unreadable, never as content (a mapped file would
/// raise SIGBUS here, which ends a .NET process; docs/scan.md).
/// </summary>
public sealed class ScanTruncationTests : IDisposable
{
    private const int PageSize = 4096;
    private const int Pages = 65_536; // 256 MiB: long enough a scan to truncate it midway
    private readonly string _dir = Directory.CreateTempSubdirectory("memvisor-scan-truncate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_file_truncated_during_the_scan_is_reported_with_its_lost_pages_unreadable()
    {
        var path = Path.Combine(_dir, "shrinking.mem");
        WriteFile(path);

        // Try a few times: on a machine so loaded that the scan reads the whole file between two looks at
        // its progress, the truncation lands after the scan (still a valid run, but not the case tested).
        var midway = false;
        for (var attempt = 0; attempt < 3 && !midway; attempt++)
        {
            if (attempt > 0)
            {
                WriteFile(path);
            }

            using var process = MemvisorProcess.Start(_dir, "scan", path, "--json");
            var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await WaitForBytesRead(process, 8L * 1024 * 1024);
            using (var writer = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            {
                writer.SetLength(PageSize * 16L);
            }

            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "the scan finished");
            Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}: {await stderr}");
            using var report = JsonDocument.Parse(await stdout);
            var total = report.RootElement.GetProperty("total");
            var scanned = total.GetProperty("pagesScanned").GetInt64();
            var unreadable = total.GetProperty("unreadablePages").GetInt64();

            Assert.Equal(Pages, total.GetProperty("pagesOffered").GetInt64());
            Assert.Equal(Pages, scanned + unreadable);
            Assert.Equal(0, total.GetProperty("zeroPages").GetInt64()); // the file holds no zero page
            Assert.True(total.GetProperty("sharingPages").GetInt64() <= scanned);
            midway = unreadable > 0 && scanned >= 16;
        }

        Assert.True(midway, "the truncation landed during the scan in one of three attempts");
    }

    /// <summary>Pages that are all different and none zero: 8 bytes of page number, the rest a pattern.</summary>
    private static void WriteFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1 << 20);
        var page = new byte[PageSize];
        page.AsSpan().Fill(0x5A);
        for (var i = 0L; i < Pages; i++)
        {
            BitConverter.TryWriteBytes(page, i);
            stream.Write(page);
        }
    }

    /// <summary>Waits until <paramref name="process"/> has read <paramref name="bytes"/> bytes (/proc/PID/io rchar), or has exited.</summary>
    private static async Task WaitForBytesRead(System.Diagnostics.Process process, long bytes)
    {
        var io = $"/proc/{process.Id.ToString(CultureInfo.InvariantCulture)}/io";
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!process.HasExited && DateTime.UtcNow < deadline)
        {
            try
            {
                var rchar = File.ReadLines(io).FirstOrDefault(l => l.StartsWith("rchar:", StringComparison.Ordinal));
                if (rchar is not null && long.Parse(rchar["rchar:".Length..], CultureInfo.InvariantCulture) >= bytes)
                {
                    return;
                }
            }
            catch (IOException)
            {
                return; // exited meanwhile
            }

            await Task.Delay(1, TestContext.Current.CancellationToken);
        }
    }
}
