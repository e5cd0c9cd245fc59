/*
 * A BenchmarkDotNet column that turns the mean time per operation (one operation = one page, through
 * OperationsPerInvoke) into pages per second, the unit every scan figure of Memvisor is quoted in.
 */
using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Memvisor.Benchmarks.Suites;

/// <summary>Pages per second from the mean nanoseconds per page.</summary>
internal sealed class PagesPerSecondColumn : IColumn
{
    public string Id => nameof(PagesPerSecondColumn);

    public string ColumnName => "PagesPerSecond";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Pages per second (1 / mean time per page)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var report = summary[benchmarkCase];
        var nanosecondsPerPage = report?.ResultStatistics?.Mean;
        return nanosecondsPerPage is > 0
            ? (1e9 / nanosecondsPerPage.Value).ToString("N0", CultureInfo.InvariantCulture)
            : "NA";
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
