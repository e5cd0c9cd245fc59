/*
 * The schema's spelling of every closed set of the scenario model (docs/scenario.schema.json, in the
 * same order): the one place where these names are strings. ScenarioReader parses them, ScenarioWriter
 * writes them, and reports show them, so a name a user reads in a report is the name to write in a file.
 */
using System.Globalization;
using Memvisor.Core.Allocation;
using Memvisor.Core.Memory;

namespace Memvisor.Scenarios;

/// <summary>The names of the values of <typeparamref name="T"/> in scenario files.</summary>
/// <typeparam name="T">The enum.</typeparam>
public sealed class NameTable<T>
    where T : struct, Enum
{
    private readonly (string Name, T Value)[] _entries;

    /// <summary>Creates the table; names and values must each be distinct.</summary>
    public NameTable(params (string Name, T Value)[] entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.DistinctBy(e => e.Name, StringComparer.Ordinal).Count() != entries.Length || entries.DistinctBy(e => e.Value).Count() != entries.Length)
        {
            throw new ArgumentException($"Names of {typeof(T).Name}: each name and each value once.", nameof(entries));
        }

        _entries = entries;
        Names = [.. entries.Select(e => e.Name)];
    }

    /// <summary>The names, in the schema's order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The values named, in the schema's order.</summary>
    public IEnumerable<T> Values => _entries.Select(e => e.Value);

    /// <summary>The name of <paramref name="value"/>; a value without a name is a bug.</summary>
    public string Of(T value)
    {
        foreach (var (name, v) in _entries)
        {
            if (EqualityComparer<T>.Default.Equals(v, value))
            {
                return name;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(value), value, $"Bug: {typeof(T).Name}.{value} has no name in scenario files.");
    }

    /// <summary>The value named <paramref name="name"/> (exact, case-sensitive), if any.</summary>
    public bool TryParse(string name, out T value)
    {
        foreach (var (n, v) in _entries)
        {
            if (string.Equals(n, name, StringComparison.Ordinal))
            {
                value = v;
                return true;
            }
        }

        value = default;
        return false;
    }
}

/// <summary>The schema's names of the scenario model's enums.</summary>
public static class ScenarioNames
{
    /// <summary>host.salting.</summary>
    public static NameTable<ShareSaltMode> Salting { get; } = new(
        ("single", ShareSaltMode.SingleSalt), ("per-vm", ShareSaltMode.PerVm), ("zero-only", ShareSaltMode.UniformPagesAcrossVms));

    /// <summary>vms[].shares when it is a preset (otherwise a number).</summary>
    public static NameTable<SharesLevel> SharesPreset { get; } = new(("low", SharesLevel.Low), ("normal", SharesLevel.Normal), ("high", SharesLevel.High));

    /// <summary>vms[].guest.</summary>
    public static NameTable<GuestFlavour> Guest { get; } = new(("linux", GuestFlavour.Linux), ("windows", GuestFlavour.Windows));

    /// <summary>vms[].balloonDriver.</summary>
    public static NameTable<BalloonDriverSpec> BalloonDriver { get; } = new(
        ("active", BalloonDriverSpec.Active), ("absent", BalloonDriverSpec.Absent), ("disabled", BalloonDriverSpec.Disabled), ("slow", BalloonDriverSpec.Slow));

    /// <summary>vms[].workload.kind.</summary>
    public static NameTable<WorkloadKind> Kind { get; } = new(
        ("idle", WorkloadKind.Idle), ("toucher", WorkloadKind.Toucher), ("fileserver", WorkloadKind.FileServer),
        ("compute", WorkloadKind.Compute), ("zeroing", WorkloadKind.Zeroing), ("network", WorkloadKind.Network));

    /// <summary>vms[].workload.distribution.</summary>
    public static NameTable<AccessPattern> Distribution { get; } = new(("uniform", AccessPattern.Uniform), ("zipf", AccessPattern.Zipf), ("cyclic", AccessPattern.Cyclic), ("strided", AccessPattern.Strided));

    /// <summary>Shares as a scenario file writes them: a preset's name, or the number.</summary>
    public static string Of(Shares shares) =>
        shares.Count is { } count ? count.ToString("R", CultureInfo.InvariantCulture) : SharesPreset.Of(shares.Level);

    /// <summary>The name of <paramref name="value"/>.</summary>
    public static string Of(ShareSaltMode value) => Salting.Of(value);

    /// <summary>The name of <paramref name="value"/>.</summary>
    public static string Of(GuestFlavour value) => Guest.Of(value);

    /// <summary>The name of <paramref name="value"/>.</summary>
    public static string Of(BalloonDriverSpec value) => BalloonDriver.Of(value);

    /// <summary>The name of <paramref name="value"/>.</summary>
    public static string Of(WorkloadKind value) => Kind.Of(value);

    /// <summary>The name of <paramref name="value"/>.</summary>
    public static string Of(AccessPattern value) => Distribution.Of(value);
}
