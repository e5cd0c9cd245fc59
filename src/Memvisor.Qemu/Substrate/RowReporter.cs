namespace Memvisor.Qemu.Substrate;

/// <summary>Hears a run's rows on the run's own thread, in order (Progress&lt;T&gt; would post to the thread pool).</summary>
internal sealed class RowReporter(Action<QemuRunRow> report) : IProgress<QemuRunRow>
{
    /// <inheritdoc/>
    public void Report(QemuRunRow value) => report(value);
}
