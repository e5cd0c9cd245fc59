/*
 * The balloon actuator against the fake QMP server, on a manual clock: clamping, no resend of an
 * unchanged target, a QMP error returned rather than thrown, and the stall judgement.
 */
using Memvisor.Qemu.Actuation;
using Memvisor.Qemu.Qmp;
using Memvisor.Qemu.Tests.Qmp;

namespace Memvisor.Qemu.Tests.Actuation;

public sealed class BalloonActuatorTests
{
    private const long MiB = 1L << 20;

    [Fact]
    public async Task Targets_are_clamped_to_floor_and_configured_and_an_unchanged_target_is_not_resent()
    {
        await using var server = new FakeQmpServer(r => FakeAnswer.Return(r));
        await using var qmp = await QmpClient.ConnectAsync(server.SocketPath, cancellationToken: TestContext.Current.CancellationToken);
        var balloon = new BalloonActuator(qmp, 256 * MiB, 64 * MiB, TimeSpan.FromSeconds(10));

        var low = await balloon.SetTargetAsync(10 * MiB, TestContext.Current.CancellationToken);
        var again = await balloon.SetTargetAsync(32 * MiB, TestContext.Current.CancellationToken);
        var high = await balloon.SetTargetAsync(1024 * MiB, TestContext.Current.CancellationToken);

        Assert.Equal(new BalloonSetResult(true, 64 * MiB, null), low);
        Assert.Equal(new BalloonSetResult(false, 64 * MiB, null), again);
        Assert.Equal(new BalloonSetResult(true, 256 * MiB, null), high);
        Assert.Equal([64 * MiB, 256 * MiB], server.Requests.Where(r => r.Execute == "balloon").Select(r => r.Arguments.GetProperty("value").GetInt64()));
    }

    [Fact]
    public async Task A_QMP_error_is_returned_and_the_target_stays_unset()
    {
        await using var server = new FakeQmpServer(r => FakeAnswer.Error(r, "DeviceNotActive", "No balloon device has been activated"));
        await using var qmp = await QmpClient.ConnectAsync(server.SocketPath, cancellationToken: TestContext.Current.CancellationToken);
        var balloon = new BalloonActuator(qmp, 256 * MiB, 64 * MiB, TimeSpan.FromSeconds(10));

        var result = await balloon.SetTargetAsync(128 * MiB, TestContext.Current.CancellationToken);

        Assert.False(result.Sent);
        Assert.Contains("DeviceNotActive", result.Fault, StringComparison.Ordinal);
        Assert.Null(balloon.TargetBytes);
        Assert.Equal(BalloonProgress.NoTarget, balloon.Observe(256 * MiB));
    }

    [Fact]
    public async Task A_balloon_off_target_that_stops_moving_for_the_stall_time_is_stalled_and_reaching_the_target_clears_it()
    {
        await using var server = new FakeQmpServer(r => FakeAnswer.Return(r));
        await using var qmp = await QmpClient.ConnectAsync(server.SocketPath, cancellationToken: TestContext.Current.CancellationToken);
        var clock = new ManualClock();
        var balloon = new BalloonActuator(qmp, 256 * MiB, 64 * MiB, TimeSpan.FromSeconds(10), clock);
        await balloon.SetTargetAsync(128 * MiB, TestContext.Current.CancellationToken);

        var first = balloon.Observe(256 * MiB);
        clock.Advance(TimeSpan.FromSeconds(5));
        var moving = balloon.Observe(200 * MiB);
        clock.Advance(TimeSpan.FromSeconds(9));
        var notYet = balloon.Observe(200 * MiB);
        clock.Advance(TimeSpan.FromSeconds(1));
        var stalled = balloon.Observe(200 * MiB);
        var reached = balloon.Observe(128 * MiB);

        Assert.Equal(
            [BalloonProgress.Moving, BalloonProgress.Moving, BalloonProgress.Moving, BalloonProgress.Stalled, BalloonProgress.AtTarget],
            [first, moving, notYet, stalled, reached]);
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UnixEpoch;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
