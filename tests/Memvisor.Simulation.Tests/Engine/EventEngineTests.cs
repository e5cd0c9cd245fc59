using Memvisor.Simulation.Engine;

namespace Memvisor.Simulation.Tests.Engine;

public class EventEngineTests
{
    [Fact]
    public void Events_run_in_time_order_and_ties_in_scheduling_order()
    {
        var engine = new EventEngine();
        var log = new List<string>();
        engine.ScheduleAt(30, () => log.Add("c"));
        engine.ScheduleAt(10, () => log.Add("a1"));
        engine.ScheduleAt(10, () => log.Add("a2"));
        engine.ScheduleAt(20, () =>
        {
            log.Add("b");
            engine.ScheduleAfter(0, () => log.Add("b-now"));
            engine.ScheduleAfter(5, () => log.Add("b+5"));
        });
        engine.RunUntil(100);
        Assert.Equal(["a1", "a2", "b", "b-now", "b+5", "c"], log);
        Assert.Equal(100, engine.NowNanoseconds);
    }

    [Fact]
    public void Periodic_events_stop_when_told_and_run_until_leaves_later_events_waiting()
    {
        var engine = new EventEngine();
        var ticks = new List<long>();
        engine.SchedulePeriodic(0, 10, () =>
        {
            ticks.Add(engine.NowNanoseconds);
            return ticks.Count < 4;
        });
        engine.ScheduleAt(1000, () => ticks.Add(-1));
        engine.RunUntil(500);
        Assert.Equal([0L, 10, 20, 30], ticks);
        Assert.Equal(1, engine.Pending);
    }

    [Fact]
    public void The_past_cannot_be_scheduled()
    {
        var engine = new EventEngine();
        engine.RunUntil(50);
        Assert.Throws<ArgumentOutOfRangeException>(() => engine.ScheduleAt(10, () => { }));
    }
}
