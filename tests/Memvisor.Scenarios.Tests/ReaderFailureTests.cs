using CsCheck;
using Memvisor.Scenarios;

namespace Memvisor.Scenarios.Tests;

/// <summary>The reader's answers to hostile or careless files (issue 14): one clear line each, before anything runs.</summary>
public class ReaderFailureTests
{
    private const string OneVm = ScenarioReaderTests.OneVm;

    private static ScenarioException Rejects(string json) => Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(json, "test.json"));

    [Theory]
    [InlineData("""{ "seed": 1, "seed": 2, "vms": [ { "name": "a", "memoryMB": 64 } ] }""", "seed: given more than once")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "memoryMB": 128 } ] }""", "vms[0].memoryMB: given more than once")]
    [InlineData("""{ "host": { "salting": "single", "salting": "per-vm" }, "vms": [ { "name": "a", "memoryMB": 64 } ] }""", "host.salting: given more than once")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "workload": { "kind": "idle", "kind": "compute" } } ] }""", "vms[0].workload.kind: given more than once")]
    public void A_field_given_twice_is_an_error_not_a_silent_choice(string json, string expected)
    {
        var e = Rejects(json);
        Assert.Contains(expected, Assert.Single(e.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Json_syntax_errors_give_line_and_column_counted_from_one()
    {
        var e = Rejects("{\n  \"vms\": [\n    }\n");
        var line = Assert.Single(e.Errors);
        Assert.StartsWith("line 3, column 5: not valid JSON: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", line, StringComparison.Ordinal);

        // Columns count characters, not UTF-8 bytes: "é" is two bytes.
        Assert.StartsWith("line 1, column 15: ", Assert.Single(Rejects("{ \"name\": \"é\" x }").Errors), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "name": "\ud800", "vms": [ { "name": "a", "memoryMB": 64 } ] }""", "name: a string that is not text")]
    [InlineData("""{ "description": "ok \udc00 then", "vms": [ { "name": "a", "memoryMB": 64 } ] }""", "description: a string that is not text")]
    [InlineData("""{ "vms": [ { "name": "\ud800", "memoryMB": 64 } ] }""", "vms[0].name: a string that is not text")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "guest": "\ud800" } ] }""", "vms[0].guest: a string that is not text")]
    [InlineData("""{ "host": { "swapDirectory": "/tmp/\ud800" }, "vms": [ { "name": "a", "memoryMB": 64 } ] }""", "host.swapDirectory: a string that is not text")]
    [InlineData("""{ "\ud800": 1, "vms": [ { "name": "a", "memoryMB": 64 } ] }""", "(top level): a field name that is not text")]
    [InlineData("""{ "vms": [ { "name": "a", "memoryMB": 64, "x\udfff": 1 } ] }""", "vms[0]: a field name that is not text")]
    public void A_lone_surrogate_in_any_string_is_a_clean_error(string json, string expected)
    {
        var e = Rejects(json);
        Assert.Contains(expected, Assert.Single(e.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void A_valid_surrogate_pair_is_text()
    {
        var s = ScenarioReader.Parse("""{ "name": "\ud83d\ude00", "vms": [ { "name": "a", "memoryMB": 64 } ] }""");
        Assert.Equal("\U0001F600", s.Name);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1e-5")]
    [InlineData("0.5")]
    [InlineData("1e-300")]
    [InlineData("1e13")]
    public void Shares_below_one_or_absurdly_large_are_rejected_by_the_reader(string shares)
    {
        var e = Rejects($$"""{ "vms": [ { "name": "a", "memoryMB": 64, "shares": {{shares}} } ] }""");
        Assert.Contains($"vms[0].shares: {shares}; expected \"low\", \"normal\", \"high\" or a number of shares from 1 to", Assert.Single(e.Errors), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("2.5")]
    [InlineData("1e12")]
    public void Shares_from_one_are_read_as_that_number(string shares)
    {
        var s = ScenarioReader.Parse($$"""{ "vms": [ { "name": "a", "memoryMB": 64, "shares": {{shares}} } ] }""");
        Assert.Equal(double.Parse(shares, System.Globalization.CultureInfo.InvariantCulture), s.Vms[0].Shares.Count);
    }

    [Theory]
    [InlineData(99, 98, 97, 96)]
    [InlineData(99, 4, 2, 1)]
    public void Thresholds_that_leave_the_vms_no_memory_are_rejected_by_the_reader(double high, double soft, double hard, double low)
    {
        var e = Rejects($$"""{ "host": { "highPercent": {{high}}, "softPercent": {{soft}}, "hardPercent": {{hard}}, "lowPercent": {{low}} }, {{OneVm}} }""");
        Assert.Contains($"host.highPercent: {high}; expected less than 99 (the host keeps highPercent plus a 1% margin of its memory free)", string.Join("\n", e.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void The_highest_thresholds_that_leave_memory_are_accepted()
    {
        var s = ScenarioReader.Parse($$"""{ "host": { "highPercent": 98, "softPercent": 97, "hardPercent": 96, "lowPercent": 95 }, {{OneVm}} }""");
        Assert.Equal(98, s.Host.HighPercent);
    }

    [Theory]
    [InlineData("""{ "name": "empty" }""", "vms: missing; expected an array of at least one VM")]
    [InlineData("""{ "name": "empty", "vms": [] }""", "vms: []; expected at least one VM")]
    [InlineData("""{ "name": "typo", "VMs": [ { "name": "a", "memoryMB": 64 } ] }""", "vms: missing; expected an array of at least one VM")]
    public void A_scenario_without_vms_is_an_error_whether_vms_is_left_out_or_empty(string json, string expected)
    {
        var e = Rejects(json);
        Assert.Contains(expected, e.Errors);
    }

    [Fact]
    public void At_most_twenty_errors_are_listed_then_how_many_more()
    {
        var vms = string.Join(", ", Enumerable.Range(0, 25).Select(i => $$"""{ "name": "v{{i}}", "memoryMB": -1 }"""));
        var e = Rejects($$"""{ "vms": [ {{vms}} ] }""");

        Assert.Equal(25, e.Errors.Count);
        var lines = e.Message.Split(Environment.NewLine);
        Assert.Equal("test.json: 25 problem(s):", lines[0]);
        Assert.Equal(1 + ScenarioException.MaxListedErrors + 1, lines.Length);
        Assert.Contains("vms[19].memoryMB", lines[20], StringComparison.Ordinal);
        Assert.Equal("  and 5 more", lines[^1]);
    }

    [Fact]
    public void Mutated_valid_files_give_a_scenario_or_a_scenario_error_and_nothing_else()
    {
        var valid = ScenarioWriter.Write(ScenarioWriterTests.Everything);
        const string Alphabet = "{}[]\",:\\u0123456789abcdefd8e-+.Ee trufalsn\n";
        var mutation = Gen.Select(Gen.Int[0, 5], Gen.Int[0, valid.Length - 1], Gen.Char[Alphabet], Gen.Int[1, 40]);
        mutation.Array[1, 6].Sample(mutations =>
        {
            var text = valid;
            foreach (var (kind, at, c, length) in mutations)
            {
                var i = Math.Min(at, text.Length - 1);
                text = kind switch
                {
                    0 => text.Remove(i, Math.Min(length, text.Length - i)),
                    1 => text.Insert(i, c.ToString()),
                    2 => text.Insert(i, "\\ud800"),
                    3 => text.Insert(i, text.Substring(i, Math.Min(length, text.Length - i))),
                    // Found by the hostile runs: escapes that reach a terminal, and values too long to repeat in an error.
                    4 => text.Insert(i, length % 2 == 0 ? "\\u001b[2J\\n" : "\\u202e"),
                    _ => text.Insert(i, new string(c, length * 25)),
                };
                if (text.Length == 0)
                {
                    text = "{";
                }
            }

            try
            {
                ScenarioReader.Parse(text, "fuzz");
            }
            catch (ScenarioException e)
            {
                Assert.NotEmpty(e.Errors);

                // Each error is one short line of text a terminal shows as written.
                Assert.All(e.Errors, error => Assert.True(
                    error.Length < 800 && !error.Any(ch => char.IsControl(ch) || ch == '\u202e'),
                    $"an error line of {error.Length} characters, or with a control character: {error[..Math.Min(error.Length, 200)]}"));
            }
        }, iter: 3000);
    }

    [Fact]
    public void Mutated_bytes_of_a_valid_file_give_a_scenario_only_when_they_are_utf8()
    {
        // Invalid UTF-8 was replaced by U+FFFD without a word, so a name could read as "w\uFFFD\uFFFD".
        var valid = System.Text.Encoding.UTF8.GetBytes(ScenarioWriter.Write(ScenarioWriterTests.Everything));
        var path = Path.GetTempFileName();
        try
        {
            Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte, Gen.Int[0, 2]).Array[1, 4].Sample(mutations =>
            {
                var bytes = valid.ToList();
                foreach (var (at, b, kind) in mutations)
                {
                    _ = kind switch
                    {
                        0 => Set(bytes, at, b),
                        1 => Insert(bytes, at, b),
                        _ => Insert(bytes, at, 0xEF, 0xBB, 0xBF),
                    };
                }

                File.WriteAllBytes(path, [.. bytes]);
                var utf8 = System.Text.Unicode.Utf8.IsValid([.. bytes]) && !bytes.Contains(0);
                try
                {
                    ScenarioReader.ReadFile(path);
                    Assert.True(utf8, "a file that is not UTF-8 text was read as a scenario");
                }
                catch (ScenarioException e)
                {
                    Assert.NotEmpty(e.Errors);
                    Assert.DoesNotContain(e.Errors, error => error.Contains('\uFFFD', StringComparison.Ordinal));
                }
            }, iter: 400);
        }
        finally
        {
            File.Delete(path);
        }

        static bool Set(List<byte> bytes, int at, byte b)
        {
            bytes[Math.Min(at, bytes.Count - 1)] = b;
            return true;
        }

        static bool Insert(List<byte> bytes, int at, params byte[] inserted)
        {
            bytes.InsertRange(Math.Min(at, bytes.Count), inserted);
            return true;
        }
    }
}

/// <summary>What ReadFile is given instead of a scenario file.</summary>
public class ReadFileFailureTests
{
    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void No_file_name_is_a_scenario_error(string path)
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.ReadFile(path));
        Assert.Equal("no file name given; expected the path of a scenario file", Assert.Single(e.Errors));
    }

    [Fact]
    public void A_folder_is_named_as_a_folder()
    {
        var dir = Directory.CreateTempSubdirectory("memvisor-scenario-").FullName;
        try
        {
            var e = Assert.Throws<ScenarioException>(() => ScenarioReader.ReadFile(dir));
            Assert.Equal("a folder; expected a scenario file", Assert.Single(e.Errors));
        }
        finally
        {
            Directory.Delete(dir);
        }
    }

    [Fact]
    public void An_endless_device_is_refused_after_the_size_limit_not_read_to_exhaustion()
    {
        Assert.SkipUnless(File.Exists("/dev/zero"), "needs /dev/zero");
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.ReadFile("/dev/zero"));
        Assert.Contains("larger than 16 MiB", Assert.Single(e.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_with_a_byte_order_mark_reads()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, """{ "vms": [ { "name": "a", "memoryMB": 64 } ] }""", new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
            Assert.Equal("a", Assert.Single(ScenarioReader.ReadFile(path).Vms).Name);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
