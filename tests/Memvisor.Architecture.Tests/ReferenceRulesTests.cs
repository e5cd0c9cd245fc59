/*
 * The reference graph, pinned (docs/design.md draws it):
 *   1. Memvisor.Core (the paper) references none of our projects.
 *   2. Memvisor.Native (every P/Invoke) references none of our projects.
 *   3. Memvisor.Scenarios (the contracts: scenario model, reader, run records) references only Core.
 *   4. A substrate (the simulator; QEMU guests; any in Substrates, checked once it exists) references
 *      no other substrate, and nothing above it: not Reporting, Experiments or the CLI.
 *   5. Reporting knows no substrate and no native or Linux code: run records in, reports out.
 *   6. Experiments do not call native code themselves.
 *   7. No product project references test support, a test project or the benchmarks.
 */
namespace Memvisor.Architecture.Tests;

public sealed class ReferenceRulesTests
{
    private const string Core = "Memvisor.Core";
    private const string Native = "Memvisor.Native";
    private const string Linux = "Memvisor.Linux";
    private const string Scenarios = "Memvisor.Scenarios";
    private const string Simulation = "Memvisor.Simulation";
    private const string Reporting = "Memvisor.Reporting";
    private const string Experiments = "Memvisor.Experiments";
    private const string Cli = "Memvisor.Cli";

    /// <summary>Projects that implement Core's ports for one kind of host; a name here is checked as soon as its project exists.</summary>
    private static readonly string[] Substrates = [Simulation, "Memvisor.Qemu", "Memvisor.Kvm"];

    [Fact]
    public void The_graph_is_read_from_every_product_project_and_its_assembly()
    {
        Assert.Subset(ProductGraph.Projects.Keys.ToHashSet(), new HashSet<string> { Core, Native, Linux, Scenarios, Simulation, Reporting, Experiments, Cli });
        var simulation = ProductGraph.Projects[Simulation];
        Assert.Contains(Core, simulation.ProjectReferences);
        Assert.Contains(Core, simulation.AssemblyReferences);
        Assert.Contains(Native, simulation.AssemblyReferences);
        Assert.Equal("memvisor", ProductGraph.Projects[Cli].AssemblyName);
    }

    [Fact]
    public void Core_references_none_of_our_projects() => AssertReferencesOnly(Core);

    [Fact]
    public void Native_references_none_of_our_projects() => AssertReferencesOnly(Native);

    [Fact]
    public void Scenarios_reference_only_core() => AssertReferencesOnly(Scenarios, Core);

    [Fact]
    public void A_substrate_references_no_other_substrate_and_nothing_above_it()
    {
        var present = Substrates.Where(s => ProductGraph.Find(s) is not null).ToArray();
        Assert.Contains(Simulation, present);
        foreach (var substrate in present)
        {
            AssertReferencesNone(substrate, [.. Substrates.Where(s => s != substrate), Reporting, Experiments, Cli]);
        }
    }

    [Fact]
    public void Reporting_references_no_substrate_and_no_native_or_linux_code() =>
        AssertReferencesNone(Reporting, [.. Substrates, Native, Linux]);

    [Fact]
    public void Experiments_reference_no_native_code() => AssertReferencesNone(Experiments, Native);

    [Fact]
    public void No_product_project_references_tests_or_benchmarks()
    {
        var violations = ProductGraph.Projects.Values
            .SelectMany(p => p.References.Where(IsTestOrBench).Select(r => $"{p.Name} -> {r} ({p.Evidence(r)})"))
            .ToList();
        Assert.True(violations.Count == 0, "product code references test code:\n" + string.Join('\n', violations));
    }

    private static bool IsTestOrBench(string project) =>
        project == "Memvisor.Testing" || project.EndsWith(".Tests", StringComparison.Ordinal) || project.Contains("Benchmark", StringComparison.Ordinal);

    private static void AssertReferencesOnly(string project, params string[] allowed)
    {
        var p = ProductGraph.Projects[project];
        var violations = p.References.Where(r => !allowed.Contains(r)).Select(r => $"{project} -> {r} ({p.Evidence(r)})").ToList();
        var rule = allowed.Length == 0 ? "none of our projects" : "only " + string.Join(", ", allowed);
        Assert.True(violations.Count == 0, $"{project} may reference {rule}, but:\n" + string.Join('\n', violations));
    }

    private static void AssertReferencesNone(string project, params string[] forbidden)
    {
        var p = ProductGraph.Projects[project];
        var violations = p.References.Where(forbidden.Contains).Select(r => $"{project} -> {r} ({p.Evidence(r)})").ToList();
        Assert.True(violations.Count == 0, $"{project} must not reference {string.Join(", ", forbidden)}, but:\n" + string.Join('\n', violations));
    }
}
