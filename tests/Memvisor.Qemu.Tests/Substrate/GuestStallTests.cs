/*
 * A real guest's execution time leaves out what it stood waiting for its own disk: the stalled share
 * comes from the growth of the agent's iowait per CPU between two of its reports.
 */
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Substrate;

namespace Memvisor.Qemu.Tests.Substrate;

public sealed class GuestStallTests
{
    [Fact]
    public void The_stalled_share_is_iowait_per_cpu_over_the_time_between_reports_and_holds_until_the_next()
    {
        var stall = new GuestStall();

        stall.Observe(Report(10, iowait: 4, cpus: 2));
        Assert.Equal(0, stall.StalledFraction); // one report: nothing to compare with
        stall.Observe(Report(12, iowait: 7, cpus: 2)); // 3 s of CPU-iowait over 2 CPUs in 2 s
        Assert.Equal(0.75, stall.StalledFraction, 9);
        Assert.Equal(TimeSpan.FromMilliseconds(250), stall.Executed(TimeSpan.FromSeconds(1)));

        stall.Observe(Report(12, iowait: 7, cpus: 2)); // the same report again
        stall.Observe(null); // no report this tick
        Assert.Equal(0.75, stall.StalledFraction, 9);

        stall.Observe(Report(13, iowait: 7, cpus: 2));
        Assert.Equal(0, stall.StalledFraction);
        Assert.Equal(TimeSpan.FromSeconds(1), stall.Executed(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void Shares_stay_within_zero_and_one_and_agents_that_do_not_say_never_stall_a_guest()
    {
        var stall = new GuestStall();
        stall.Observe(Report(1, iowait: 0, cpus: 1));
        stall.Observe(Report(2, iowait: 5, cpus: 1)); // more iowait than time (clock ticks rounding): all stalled
        Assert.Equal(1, stall.StalledFraction);
        stall.Observe(Report(1, iowait: 0, cpus: 1)); // the agent started again: a new baseline
        Assert.Equal(1, stall.StalledFraction);
        stall.Observe(Report(2, iowait: 0.5, cpus: 1));
        Assert.Equal(0.5, stall.StalledFraction, 9);

        var silent = new GuestStall();
        silent.Observe(new AgentReport(1, AgentState.Running, 0, 0, 0, 0, 0, 0));
        silent.Observe(new AgentReport(2, AgentState.Running, 0, 0, 0, 0, 0, 0));
        Assert.Equal(0, silent.StalledFraction);
        Assert.Equal(TimeSpan.FromSeconds(3), silent.Executed(TimeSpan.FromSeconds(3)));
    }

    private static AgentReport Report(double seconds, double iowait, int cpus) =>
        new(seconds, AgentState.Running, 0, 0, 0, 0, 0, 0) { IowaitSeconds = iowait, Cpus = cpus };
}
