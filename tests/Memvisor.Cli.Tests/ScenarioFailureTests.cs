using System.Text.Json;
using Memvisor.Testing;

namespace Memvisor.Cli.Tests;

/// <summary>
/// Issue 14's bad scenarios, run through the real `memvisor simulate` as a user would: each is refused before
/// anything runs with exit code 1 and one line naming the problem (no .NET type names, no stack trace), nothing
/// is written, and no swap file is left in the temporary folder.
/// </summary>
public sealed class ScenarioFailureTests : IDisposable
{
    private readonly OutputFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string Host = """ "host": { "memoryMB": 64, "swapMB": 256 } """;

    [Theory]
    [InlineData("thresholds", $$"""{ "durationSeconds": 2, "host": { "highPercent": 99, "softPercent": 98, "hardPercent": 97, "lowPercent": 96 }, "vms": [ { "name": "a", "memoryMB": 32 } ] }""",
        "host.highPercent: 99; expected less than 99 (the host keeps highPercent plus a 1% margin of its memory free)")]
    [InlineData("duplicate-key", """{ "durationSeconds": 2, "durationSeconds": 3, "vms": [ { "name": "a", "memoryMB": 32 } ] }""",
        "durationSeconds: given more than once; expected each field once")]
    [InlineData("missing-vms", """{ "durationSeconds": 2 }""", "vms: missing; expected an array of at least one VM")]
    [InlineData("tiny-shares", """{ "durationSeconds": 2, "vms": [ { "name": "a", "memoryMB": 32, "shares": 1e-5 } ] }""",
        "vms[0].shares: 1e-5; expected \"low\", \"normal\", \"high\" or a number of shares from 1 to 1000000000000")]
    [InlineData("surrogate", """{ "durationSeconds": 2, "vms": [ { "name": "\ud800", "memoryMB": 32 } ] }""",
        "vms[0].name: a string that is not text (a lone UTF-16 surrogate such as \"\\ud800\"); expected text")]
    [InlineData("line-numbers", "{\n  \"durationSeconds\": 2,\n  \"vms\": [ oops ]\n}", "line 3, column 12: not valid JSON")]
    [InlineData("nan", """{ "durationSeconds": NaN, "vms": [ { "name": "a", "memoryMB": 32 } ] }""", "line 1, column 22: not valid JSON")]
    [InlineData("infinity", """{ "durationSeconds": 1e999, "vms": [ { "name": "a", "memoryMB": 32 } ] }""", "durationSeconds: 1e999; expected a number from 0.001 to 10000000")]
    [InlineData("small-vm", $$"""{ "durationSeconds": 2, {{Host}}, "vms": [ { "name": "tiny", "memoryMB": 4 } ] }""",
        "vms[0] ('tiny').memoryMB: 4 MiB (1024 pages) is smaller than its guest's kernel (linux image 'default' takes 2064 pages at boot); expected at least 8.13 MiB.")]
    [InlineData("working-set", $$"""{ "durationSeconds": 2, {{Host}}, "vms": [ { "name": "v", "memoryMB": 64, "workload": { "kind": "toucher", "workingSetMB": 1048576 } } ] }""",
        "vms[0] ('v').workload.workingSetMB: 1048576 MiB for a toucher workload is more than what guest 'v' can hold")]
    [InlineData("fileset-zero", $$"""{ "durationSeconds": 2, {{Host}}, "vms": [ { "name": "f", "memoryMB": 32, "workload": { "kind": "fileserver", "fileSetMB": 0 } } ] }""",
        "vms[0] ('f').workload.fileSetMB: 0 MiB is less than one file of the file server (16 pages); expected at least 0.0625 MiB.")]
    [InlineData("scan-rate", """{ "durationSeconds": 2, "host": { "shareScanHostPagesPerSecond": 1e9 }, "vms": [ { "name": "a", "memoryMB": 32 } ] }""",
        "host.shareScanHostPagesPerSecond: 1e9; expected a number from 0.001 to 1000000")]
    [InlineData("too-many-samples", """{ "durationSeconds": 10000000, "sampleIntervalSeconds": 0.001, "vms": [ { "name": "a", "memoryMB": 32 } ] }""",
        "durationSeconds: 10000000 s at one sample every 0.001 s is 10000000000 samples; expected at most 1000000")]
    [InlineData("control-character", """{ "durationSeconds": 2, "vms": [ { "name": "a\u0000b", "memoryMB": 32 } ] }""",
        "vms[0].name: \"a\\u0000b\"; expected text without control characters")]
    [InlineData("deep-nesting", """{ "durationSeconds": 2, "vms": [ { "name": "a", "memoryMB": 32 } ], "x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]] }""",
        "not valid JSON: The maximum configured depth of 64 has been exceeded")]
    [InlineData("swap-directory-missing", """{ "durationSeconds": 2, "host": { "swapDirectory": "/no/such/folder" }, "vms": [ { "name": "a", "memoryMB": 32 } ] }""", "/no/such/folder")]
    [InlineData("swap-directory-proc", """{ "durationSeconds": 2, "host": { "swapDirectory": "/proc" }, "vms": [ { "name": "a", "memoryMB": 32 } ] }""", "/proc")]
    [InlineData("swap-directory-sys", """{ "durationSeconds": 2, "host": { "swapDirectory": "/sys" }, "vms": [ { "name": "a", "memoryMB": 32 } ] }""",
        "memvisor simulate: host.swapDirectory '/sys': its folder cannot be written (Access to the path '/sys/.memvisor.probe-")]
    public void A_bad_scenario_is_refused_in_one_line_before_anything_runs_and_leaves_nothing_behind(string name, string json, string expected)
    {
        var scenario = Path.Combine(_dir.Path, $"{name}.json");
        File.WriteAllText(scenario, json);
        var temp = Directory.CreateDirectory(Path.Combine(_dir.Path, "tmp")).FullName;

        var o = MemvisorProcess.Run(_dir.Path, new Dictionary<string, string> { ["TMPDIR"] = temp }, "simulate", scenario, "--quiet", "--out", "out");

        Assert.Equal(1, o.ExitCode);
        Assert.Contains(expected, o.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", o.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", o.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("bug", o.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "out")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp));
    }

    [Theory]
    [InlineData("invalid-utf8", "the file is not UTF-8 text: byte 0xFF at offset 36 (line 2) starts no UTF-8 character; expected a UTF-8 file")]
    [InlineData("utf16-bom", "the file is UTF-16 text (it starts with a UTF-16 byte-order mark); expected UTF-8: save it as UTF-8")]
    [InlineData("utf16-no-bom", "the file holds a NUL byte at offset 1 (line 1); expected UTF-8 text (a UTF-16 file without a byte-order mark looks like this)")]
    [InlineData("huge-value", "host.salting: \"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy... (1000000 characters)\"; expected one of \"single\", \"per-vm\", \"zero-only\"")]
    [InlineData("huge-number", "seed: 999999999999999999999999999999999999999999999999999999999999... (100000 characters); expected a whole number from 0 to 18446744073709551615")]
    [InlineData("escapes", "vms[0].guest: \"linux\\u001b[2J\\u000a\\u202e\"; expected one of \"linux\", \"windows\"")]
    [InlineData("invalid-literal", "line 1, column 25: not valid JSON: 'tru 2,\\u000a ")]
    [InlineData("escaped-field", "host.\\u001b]0;owned\\u0007: unknown field; expected one of")]
    public void Bytes_that_are_not_a_scenario_are_named_in_one_short_line(string name, string expected)
    {
        // Invalid UTF-8 was silently replaced (a name read as "w\uFFFD\uFFFD"), UTF-16 gave "'0xEF' is an invalid start
        // of a value", a 1 MB value was repeated whole on the terminal, and a value's line breaks and escape sequences
        // reached it raw (breaking the one line, or clearing the screen).
        const string Vm = """ "vms": [ { "name": "a", "memoryMB": 32 } ] """;
        var utf8 = System.Text.Encoding.UTF8;
        byte[] bytes = name switch
        {
            "invalid-utf8" => [.. utf8.GetBytes("{ \"durationSeconds\": 2,\n  \"name\": \"w"), 0xFF, 0xFE, .. utf8.GetBytes($"\", {Vm} }}")],
            "utf16-bom" => System.Text.Encoding.Unicode.GetPreamble().Concat(System.Text.Encoding.Unicode.GetBytes($"{{ {Vm} }}")).ToArray(),
            "utf16-no-bom" => System.Text.Encoding.Unicode.GetBytes($"{{ {Vm} }}"),
            "huge-value" => utf8.GetBytes($"{{ \"host\": {{ \"salting\": \"{new string('y', 1_000_000)}\" }}, {Vm} }}"),
            "huge-number" => utf8.GetBytes($"{{ \"seed\": {new string('9', 100_000)}, {Vm} }}"),
            "escapes" => utf8.GetBytes($"{{ \"vms\": [ {{ \"name\": \"a\", \"memoryMB\": 32, \"guest\": \"linux\\u001b[2J\\n\\u202e\" }} ] }}"),
            "invalid-literal" => utf8.GetBytes($"{{ \"durationSeconds\": tru 2,\n  {Vm}, \"description\": \"{new string('x', 5000)}\" }}"),
            _ => utf8.GetBytes($"{{ \"host\": {{ \"\\u001b]0;owned\\u0007\": 1 }}, {Vm} }}"),
        };
        var scenario = Path.Combine(_dir.Path, $"{name}.json");
        File.WriteAllBytes(scenario, bytes);

        var o = MemvisorProcess.Run(_dir.Path, "simulate", scenario, "--quiet", "--out", "out");

        Assert.Equal(1, o.ExitCode);
        var lines = o.Stderr.TrimEnd().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Equal($"memvisor simulate: {scenario}: 1 problem(s):", lines[0]);
        Assert.StartsWith($"  {expected}", lines[1], StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', o.Stderr);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "out")));
    }

    [Fact]
    public void A_swap_directory_that_is_a_file_is_refused_in_one_line()
    {
        var file = Path.Combine(_dir.Path, "not-a-folder");
        File.WriteAllText(file, "x");
        var scenario = Path.Combine(_dir.Path, "s.json");
        File.WriteAllText(scenario, JsonSerializer.Serialize(new { durationSeconds = 2, host = new { swapDirectory = file }, vms = new[] { new { name = "a", memoryMB = 32 } } }));

        var o = MemvisorProcess.Run(_dir.Path, "simulate", scenario, "--quiet", "--out", "out");

        Assert.Equal(1, o.ExitCode);
        Assert.Contains(file, o.Stderr, StringComparison.Ordinal);
        Assert.Single(o.Stderr.Trim().Split('\n'));
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "out")));
    }

    [Fact]
    public void Errors_are_listed_at_most_20_then_how_many_more()
    {
        var vms = string.Join(", ", Enumerable.Range(0, 25).Select(i => $$"""{ "name": "v{{i}}", "memoryMB": -1 }"""));
        var scenario = Path.Combine(_dir.Path, "many.json");
        File.WriteAllText(scenario, $$"""{ "vms": [ {{vms}} ] }""");

        var o = MemvisorProcess.Run(_dir.Path, "simulate", scenario, "--quiet", "--out", "out");

        Assert.Equal(1, o.ExitCode);
        Assert.Contains("25 problem(s)", o.Stderr, StringComparison.Ordinal);
        Assert.Contains("vms[19].memoryMB", o.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("vms[20].memoryMB", o.Stderr, StringComparison.Ordinal);
        Assert.Contains("and 5 more", o.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Overhead_that_would_fill_the_host_is_refused_at_admission_and_the_outputs_say_why()
    {
        var scenario = Path.Combine(_dir.Path, "overhead.json");
        File.WriteAllText(scenario, $$"""{ "durationSeconds": 3, {{Host}}, "vms": [ { "name": "fat", "memoryMB": 32, "overheadMB": 64, "workload": { "kind": "toucher", "workingSetMB": 16 } } ] }""");

        var o = MemvisorProcess.Run(_dir.Path, "simulate", scenario, "--quiet", "--out", "out");

        // It was admitted and stopped at its first touch, exit 0 with NaN in the summary.
        Assert.Equal(4, o.ExitCode);
        Assert.DoesNotContain("NaN", o.Stdout + o.Stderr, StringComparison.Ordinal);
        var summary = File.ReadAllText(Path.Combine(_dir.Path, "out", "summary.json"));
        Assert.Contains("AdmissionRefused", summary, StringComparison.Ordinal);
        Assert.Contains("of which the host keeps 0.64 MB (164 pages) free", summary, StringComparison.Ordinal);
        Assert.DoesNotContain("MachineMemoryExhausted", summary, StringComparison.Ordinal);
    }

    [Fact]
    public void The_scenario_embedded_in_summary_json_runs_again_to_the_same_outputs()
    {
        var scenario = Path.Combine(_dir.Path, "mixed.json");
        File.WriteAllText(scenario, """
            { "name": "again", "seed": 7, "durationSeconds": 6, "host": { "memoryMB": 128, "swapMB": 256, "salting": "per-vm", "idleTax": 0.5 },
              "vms": [ { "name": "w", "memoryMB": 64, "shares": "high", "balloonDriver": "slow", "workload": { "kind": "toucher", "workingSetMB": 24, "distribution": "zipf" } },
                       { "name": "f", "memoryMB": 96, "guest": "windows", "minMB": 16, "workload": { "kind": "fileserver", "fileSetMB": 64, "clients": 2 } } ] }
            """);
        Assert.Equal(0, MemvisorProcess.Run(_dir.Path, "simulate", scenario, "--quiet", "--out", "first").ExitCode);
        using (var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir.Path, "first", "summary.json"))))
        {
            File.WriteAllText(Path.Combine(_dir.Path, "embedded.json"), summary.RootElement.GetProperty("scenario").GetRawText());
        }

        var again = MemvisorProcess.Run(_dir.Path, "simulate", "embedded.json", "--quiet", "--out", "second");

        Assert.Equal(0, again.ExitCode);
        foreach (var file in new[] { "summary.json", "timeseries-host.csv", "timeseries-vms.csv", "timeseries.json" })
        {
            Assert.Equal(File.ReadAllText(Path.Combine(_dir.Path, "first", file)), File.ReadAllText(Path.Combine(_dir.Path, "second", file)));
        }
    }

    [Fact]
    public void Salt_modes_have_one_spelling_in_schema_summary_and_scan()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(RepositoryFiles.Path("docs/scenario.schema.json")));
        var names = schema.RootElement.GetProperty("properties").GetProperty("host").GetProperty("properties").GetProperty("salting").GetProperty("enum")
            .EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(["single", "per-vm", "zero-only"], names);

        var scenario = Path.Combine(_dir.Path, "salt.json");
        File.WriteAllText(scenario, """{ "durationSeconds": 2, "host": { "salting": "zero-only" }, "vms": [ { "name": "a", "memoryMB": 32 } ] }""");
        Assert.Equal(0, MemvisorProcess.Run(_dir.Path, "simulate", scenario, "--quiet", "--out", "out").ExitCode);
        Assert.Contains("\"salting\": \"zero-only\"", File.ReadAllText(Path.Combine(_dir.Path, "out", "summary.json")), StringComparison.Ordinal);

        var pages = Path.Combine(_dir.Path, "pages.bin");
        File.WriteAllBytes(pages, new byte[4 * 4096]);
        foreach (var (flags, name) in new[] { (new[] { "--salt-per-source" }, "per-vm"), (["--uniform-across-sources"], "zero-only"), (["--salting", "per-vm"], "per-vm"), (["--salting", "zero-only"], "zero-only") })
        {
            var scan = MemvisorProcess.Run(_dir.Path, ["scan", pages, .. flags, "--json"]);
            Assert.Equal(0, scan.ExitCode);
            Assert.Contains($"\"{name}\"", scan.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("Salt\"", scan.Stdout, StringComparison.Ordinal);
        }

        Assert.Contains("\"single\"", MemvisorProcess.Run(_dir.Path, "scan", pages, "--json").Stdout, StringComparison.Ordinal);
    }
}
