/*
 * The QMP client against a scripted fake server: handshake, typed commands and their wire form,
 * events between replies, error replies, a server that stops answering, and one that goes away.
 */
using System.Text.Json;
using Memvisor.Qemu.Qmp;

namespace Memvisor.Qemu.Tests.Qmp;

public sealed class QmpClientTests
{
    private static readonly TimeSpan EventWait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Connect_reads_the_greeting_and_negotiates_capabilities_before_any_command()
    {
        await using var server = new FakeQmpServer(r => FakeAnswer.Return(r, """{"running": true, "status": "running", "singlestep": false}"""));
        await using var client = await QmpClient.ConnectAsync(server.SocketPath, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("7.2.22", client.Greeting.Version);
        Assert.Equal("test", client.Greeting.Package);
        Assert.Equal(["oob"], client.Greeting.Capabilities);
        var status = await client.QueryStatusAsync(TestContext.Current.CancellationToken);
        Assert.Equal(new VmStatus(true, VmRunState.Running, "running"), status);
        Assert.Equal(["qmp_capabilities", "query-status"], server.Requests.Select(r => r.Execute));
        Assert.Equal(JsonValueKind.Undefined, server.Requests[0].Arguments.ValueKind);
    }

    [Fact]
    public async Task Balloon_sends_the_target_in_bytes_and_query_balloon_reads_the_actual_size()
    {
        await using var server = new FakeQmpServer(r => r.Execute switch
        {
            "balloon" => FakeAnswer.Return(r),
            "query-balloon" => FakeAnswer.Return(r, """{"actual": 201326592}"""),
            _ => FakeAnswer.Error(r, "CommandNotFound", "no"),
        });
        await using var client = await QmpClient.ConnectAsync(server.SocketPath, cancellationToken: TestContext.Current.CancellationToken);

        await client.SetBalloonTargetAsync(192L << 20, TestContext.Current.CancellationToken);
        var actual = await client.QueryBalloonActualBytesAsync(TestContext.Current.CancellationToken);

        Assert.Equal(192L << 20, actual);
        var balloon = server.Requests.Single(r => r.Execute == "balloon");
        Assert.Equal(192L << 20, balloon.Arguments.GetProperty("value").GetInt64());
    }

    [Fact]
    public async Task Events_between_replies_reach_subscribers_in_order_and_the_reply_still_arrives()
    {
        const string change = """{"timestamp": {"seconds": 1700000000, "microseconds": 250000}, "event": "BALLOON_CHANGE", "data": {"actual": 134217728}}""";
        const string stop = """{"timestamp": {"seconds": 1700000001, "microseconds": 0}, "event": "STOP"}""";
        const string custom = """{"timestamp": {"seconds": 1700000002, "microseconds": 0}, "event": "RTC_CHANGE", "data": {"offset": 1}}""";
        await using var server = new FakeQmpServer(r => FakeAnswer.Return(r, """{"actual": 134217728}""").AfterEvents(change, stop, custom));
        await using var client = await QmpClient.ConnectAsync(server.SocketPath, cancellationToken: TestContext.Current.CancellationToken);
        using var subscription = client.Subscribe();

        var actual = await client.QueryBalloonActualBytesAsync(TestContext.Current.CancellationToken);

        Assert.Equal(128L << 20, actual);
        var events = new List<QmpEvent>();
        for (var i = 0; i < 3; i++)
        {
            events.Add(await subscription.Events.ReadAsync(TestContext.Current.CancellationToken));
        }

        Assert.Equal([QmpEventKind.BalloonChange, QmpEventKind.Stop, QmpEventKind.Other], events.Select(e => e.Kind));
        Assert.Equal(128L << 20, events[0].BalloonActualBytes);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000).AddMilliseconds(250), events[0].Timestamp);
        Assert.Null(events[1].BalloonActualBytes);
        Assert.Equal("RTC_CHANGE", events[2].Name);
    }

    [Fact]
    public async Task An_event_sent_outside_any_command_is_delivered_and_WaitFor_skips_other_kinds()
    {
        await using var server = new FakeQmpServer(r => FakeAnswer.Return(r));
        await using var client = await QmpClient.ConnectAsync(server.SocketPath, cancellationToken: TestContext.Current.CancellationToken);
        using var subscription = client.Subscribe();

        await server.SendAsync("""{"event": "RESUME", "timestamp": {"seconds": 1, "microseconds": 0}}""");
        await server.SendAsync("""{"event": "GUEST_PANICKED", "data": {"action": "pause"}, "timestamp": {"seconds": 2, "microseconds": 0}}""");
        var panic = await subscription.WaitForAsync(QmpEventKind.GuestPanicked, EventWait, TestContext.Current.CancellationToken);

        Assert.NotNull(panic);
        Assert.Equal("pause", panic.Data.GetProperty("action").GetString());
    }

    [Fact]
    public async Task An_error_reply_throws_a_typed_exception_with_class_and_description()
    {
        await using var server = new FakeQmpServer(r => FakeAnswer.Error(r, "DeviceNotActive", "No balloon device has been activated"));
        await using var client = await QmpClient.ConnectAsync(server.SocketPath, cancellationToken: TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<QmpErrorException>(() => client.SetBalloonTargetAsync(1L << 28, TestContext.Current.CancellationToken));

        Assert.Equal("balloon", error.Command);
        Assert.Equal("DeviceNotActive", error.ErrorClass);
        Assert.Equal("No balloon device has been activated", error.Description);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task A_server_that_stops_answering_times_out_and_its_late_reply_is_not_taken_for_the_next_command()
    {
        FakeRequest? unanswered = null;
        await using var server = new FakeQmpServer(r =>
        {
            if (r.Execute == "query-status")
            {
                unanswered = r;
                return FakeAnswer.Silence;
            }

            // The late reply to query-status comes first, then this command's own.
            var late = FakeAnswer.Return(unanswered!, """{"actual": 1}""").Lines[0];
            return FakeAnswer.Return(r, """{"actual": 268435456}""").AfterEvents(late);
        });
        await using var client = await QmpClient.ConnectAsync(server.SocketPath, TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken);

        var timeout = await Assert.ThrowsAsync<QmpTimeoutException>(() => client.QueryStatusAsync(TestContext.Current.CancellationToken));
        var actual = await client.ExecuteAsync("query-balloon", timeout: TimeSpan.FromSeconds(5), cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal("query-status", timeout.Command);
        Assert.Equal(TimeSpan.FromMilliseconds(300), timeout.Timeout);
        Assert.Equal(268435456, actual.GetProperty("actual").GetInt64());
    }

    [Fact]
    public async Task A_server_that_closes_fails_the_pending_command_completes_subscriptions_and_refuses_later_commands()
    {
        await using var server = new FakeQmpServer(_ => FakeAnswer.Hangup);
        await using var client = await QmpClient.ConnectAsync(server.SocketPath, cancellationToken: TestContext.Current.CancellationToken);
        using var subscription = client.Subscribe();

        var pending = await Assert.ThrowsAsync<QmpConnectionClosedException>(() => client.QueryBalloonActualBytesAsync(TestContext.Current.CancellationToken));
        await subscription.Events.Completion.WaitAsync(EventWait, TestContext.Current.CancellationToken);
        var later = await Assert.ThrowsAsync<QmpConnectionClosedException>(() => client.QueryStatusAsync(TestContext.Current.CancellationToken));

        Assert.Equal("query-balloon", pending.Command);
        Assert.Equal("query-status", later.Command);
        Assert.False(client.IsConnected);
    }

    [Fact]
    public async Task Pause_and_resume_send_stop_and_cont_and_report_the_state_QEMU_gives()
    {
        var running = true;
        await using var server = new FakeQmpServer(r => r.Execute switch
        {
            "stop" => Set(r, false, "STOP"),
            "cont" => Set(r, true, "RESUME"),
            _ => FakeAnswer.Return(r, running ? """{"running": true, "status": "running"}""" : """{"running": false, "status": "paused"}"""),
        });
        FakeAnswer Set(FakeRequest r, bool run, string evt)
        {
            running = run;
            return FakeAnswer.Return(r).AfterEvents("{\"event\": \"" + evt + "\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 0}}");
        }

        await using var client = await QmpClient.ConnectAsync(server.SocketPath, cancellationToken: TestContext.Current.CancellationToken);
        using var subscription = client.Subscribe();

        await client.PauseAsync(TestContext.Current.CancellationToken);
        var paused = await client.QueryStatusAsync(TestContext.Current.CancellationToken);
        await client.ResumeAsync(TestContext.Current.CancellationToken);
        var resumed = await client.QueryStatusAsync(TestContext.Current.CancellationToken);

        Assert.Equal(VmRunState.Paused, paused.State);
        Assert.Equal(VmRunState.Running, resumed.State);
        Assert.NotNull(await subscription.WaitForAsync(QmpEventKind.Stop, EventWait, TestContext.Current.CancellationToken));
        Assert.NotNull(await subscription.WaitForAsync(QmpEventKind.Resume, EventWait, TestContext.Current.CancellationToken));
        Assert.Equal(["qmp_capabilities", "stop", "query-status", "cont", "query-status"], server.Requests.Select(r => r.Execute));
    }

    [Fact]
    public async Task Quit_counts_a_close_racing_its_answer_as_success()
    {
        await using var server = new FakeQmpServer(_ => FakeAnswer.Hangup);
        await using var client = await QmpClient.ConnectAsync(server.SocketPath, cancellationToken: TestContext.Current.CancellationToken);

        await client.QuitAsync(TestContext.Current.CancellationToken);

        Assert.False(client.IsConnected);
    }

    [Fact]
    public async Task Concurrent_commands_answered_out_of_order_each_get_their_own_reply()
    {
        var held = new TaskCompletionSource<FakeRequest>();
        await using var server = new FakeQmpServer(r =>
        {
            if (r.Execute == "query-balloon")
            {
                held.SetResult(r);
                return FakeAnswer.Silence;
            }

            var first = FakeAnswer.Return(r, """{"running": false, "status": "internal-error"}""").Lines[0];
            var second = FakeAnswer.Return(held.Task.Result, """{"actual": 42}""").Lines[0];
            return new FakeAnswer([first, second]);
        });
        await using var client = await QmpClient.ConnectAsync(server.SocketPath, cancellationToken: TestContext.Current.CancellationToken);

        var balloon = client.QueryBalloonActualBytesAsync(TestContext.Current.CancellationToken);
        await held.Task.WaitAsync(EventWait, TestContext.Current.CancellationToken);
        var status = await client.QueryStatusAsync(TestContext.Current.CancellationToken);

        Assert.Equal(42, await balloon);
        Assert.Equal(VmRunState.InternalError, status.State);
        Assert.False(status.Running);
    }

    [Fact]
    public async Task Guest_stats_read_unset_values_as_null_and_set_values_in_bytes()
    {
        const string stats = """
            {"stats": {"stat-swap-out": 18446744073709551615, "stat-free-memory": 104857600, "stat-total-memory": 251658240,
                       "stat-available-memory": 150000000, "stat-major-faults": 3, "stat-minor-faults": 9000,
                       "stat-swap-in": 18446744073709551615, "stat-disk-caches": 1048576}, "last-update": 1700000000}
            """;
        await using var server = new FakeQmpServer(r => FakeAnswer.Return(r, r.Execute == "qom-get" ? stats.ReplaceLineEndings(" ") : "{}"));
        await using var client = await QmpClient.ConnectAsync(server.SocketPath, cancellationToken: TestContext.Current.CancellationToken);

        await client.SetGuestStatsPollingIntervalAsync(2, cancellationToken: TestContext.Current.CancellationToken);
        var guest = await client.GetGuestStatsAsync(cancellationToken: TestContext.Current.CancellationToken);

        var set = server.Requests.Single(r => r.Execute == "qom-set").Arguments;
        Assert.Equal(QmpClient.DefaultBalloonPath, set.GetProperty("path").GetString());
        Assert.Equal("guest-stats-polling-interval", set.GetProperty("property").GetString());
        Assert.Equal(2, set.GetProperty("value").GetInt32());
        Assert.Null(guest.SwapOutBytes);
        Assert.Null(guest.SwapInBytes);
        Assert.Equal(100L << 20, guest.FreeBytes);
        Assert.Equal(240L << 20, guest.TotalBytes);
        Assert.Equal(9000, guest.MinorFaults);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), guest.LastUpdate);
    }

    [Fact]
    public async Task A_server_whose_first_line_is_not_a_greeting_is_refused()
    {
        await using var server = new FakeQmpServer(r => FakeAnswer.Return(r), greeting: """{"hello": 1}""");

        var error = await Assert.ThrowsAsync<QmpProtocolException>(() => QmpClient.ConnectAsync(server.SocketPath, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("not a QMP greeting", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connecting_where_no_server_listens_names_the_socket()
    {
        var path = Path.Combine(Path.GetTempPath(), $"memvisor-no-such-{Guid.NewGuid():N}.sock");

        var error = await Assert.ThrowsAsync<QmpConnectionClosedException>(() => QmpClient.ConnectAsync(path, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }
}
