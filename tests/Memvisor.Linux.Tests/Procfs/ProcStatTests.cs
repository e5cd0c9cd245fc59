/*
 * /proc/PID/stat's fields are counted from comm's last ')': a name with spaces and parentheses does not
 * shift them, and a line without one is refused.
 */
using Memvisor.Linux.Procfs;

namespace Memvisor.Linux.Tests.Procfs;

public sealed class ProcStatTests
{
    [Fact]
    public void Fields_start_at_the_state_after_the_last_parenthesis_of_comm()
    {
        var fields = ProcStat.FieldsAfterComm("4242 (a (weird) ) name) S 1 2 3 4 5 64 0 0 7");

        Assert.Equal(["S", "1", "2", "3", "4", "5", "64", "0", "0", "7"], fields);
        Assert.Equal("7", fields[12 - 3]); // majflt, proc(5)'s field 12
    }

    [Fact]
    public void This_process_has_a_start_time_and_a_line_without_comm_is_refused()
    {
        var fields = ProcStat.FieldsAfterComm(File.ReadAllText("/proc/self/stat"));

        Assert.Matches("^[RSD]$", fields[0]); // the thread-group leader: running, sleeping or in a wait
        Assert.True(long.Parse(fields[22 - 3], System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Throws<FormatException>(() => ProcStat.FieldsAfterComm("1 x S 0 0"));
    }
}
