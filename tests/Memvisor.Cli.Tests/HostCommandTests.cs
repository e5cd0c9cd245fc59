using Memvisor.Cli.Commands;
using Memvisor.Testing;

namespace Memvisor.Cli.Tests;

/// <summary>
/// `memvisor host run` and `host attach` refuse what they cannot do in one line, before any guest
/// boots or any VM is touched; attach's --qmp values parse into socket, min and shares.
/// </summary>
public sealed class HostCommandTests : IDisposable
{
    private readonly OutputFolder _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Host_run_refuses_a_budget_the_machine_does_not_have_before_anything_boots()
    {
        var scenario = Path.Combine(_dir.Path, "huge.json");
        File.WriteAllText(scenario, """{"name":"huge","durationSeconds":10,"host":{"memoryMB":1000000},"vms":[{"name":"a","memoryMB":256}]}""");

        var o = MemvisorProcess.Run(_dir.Path, "host", "run", scenario, "--out", "out");

        Assert.Equal(1, o.ExitCode);
        // Where QEMU is installed the budget is the problem; elsewhere the missing package is.
        Assert.True(
            o.Stderr.Contains("host.memoryMB: 1000000 MiB is more than this machine has available", StringComparison.Ordinal)
            || o.Stderr.Contains("apt-get install", StringComparison.Ordinal),
            o.Stderr);
        Assert.DoesNotContain("booting", o.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "out")));
    }

    [Fact]
    public void Host_attach_to_a_socket_nobody_serves_is_one_line_and_changes_nothing()
    {
        var o = MemvisorProcess.Run(_dir.Path, "host", "attach", "--qmp", Path.Combine(_dir.Path, "nobody.sock"), "--budget", "512");

        Assert.Equal(1, o.ExitCode);
        Assert.Contains("no QMP server answers there", o.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing changed", o.Stderr, StringComparison.Ordinal);
        Assert.Single(o.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Host_attach_with_an_output_folder_it_cannot_replace_is_one_line_before_any_VM_is_touched()
    {
        var file = Path.Combine(_dir.Path, "a-file");
        File.WriteAllText(file, "not a folder");

        var o = MemvisorProcess.Run(_dir.Path, "host", "attach", "--qmp", Path.Combine(_dir.Path, "nobody.sock"), "--budget", "512", "--out", file);

        Assert.Equal(1, o.ExitCode);
        Assert.Contains("--out", o.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("QMP", o.Stderr, StringComparison.Ordinal);
        Assert.Single(o.Stderr.Trim().Split('\n'));
        Assert.Equal("not a folder", File.ReadAllText(file));
    }

    [Theory]
    [InlineData("/run/vm1.qmp", "/run/vm1.qmp", null, null)]
    [InlineData("/run/vm1.qmp,min=128", "/run/vm1.qmp", 128, null)]
    [InlineData("/run/vm1.qmp,shares=high,min=64", "/run/vm1.qmp", 64, "high")]
    [InlineData("/run/vm1.qmp,shares=2500", "/run/vm1.qmp", null, "2500")]
    public void Attach_targets_parse_into_socket_min_and_shares(string text, string socket, int? min, string? shares)
    {
        var target = HostAttachCommand.ParseTarget(text, out var problem);

        Assert.Equal("", problem);
        Assert.NotNull(target);
        Assert.Equal(socket, target.QmpSocket);
        Assert.Equal(min, target.MinMiB);
        Assert.Equal(shares is null ? null : Core.Allocation.Shares.Parse(shares), target.Shares);
    }

    [Theory]
    [InlineData("/run/vm1.qmp,min=lots", "'min=lots' is not min=MiB or shares=high|normal|low|N")]
    [InlineData("/run/vm1.qmp,max=5", "'max=5' is not")]
    [InlineData(",min=5", "the socket path is empty")]
    public void A_bad_attach_target_names_its_problem(string text, string expected)
    {
        Assert.Null(HostAttachCommand.ParseTarget(text, out var problem));
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }
}
