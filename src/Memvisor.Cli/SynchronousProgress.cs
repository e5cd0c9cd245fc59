namespace Memvisor.Cli;

/// <summary>
/// Reports on the thread that calls Report, in order (Progress&lt;T&gt; would post to the thread pool):
/// live views and printed lines come out in the run's own order.
/// </summary>
/// <typeparam name="T">What is reported.</typeparam>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    /// <inheritdoc/>
    public void Report(T value) => report(value);
}
