using System.Text.Json;
using Memvisor.Core.Allocation;
using Memvisor.Scenarios;
using Memvisor.Testing;

namespace Memvisor.Scenarios.Tests;

public class ScenarioSchemaTests
{
    private static JsonElement Schema()
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(RepositoryFiles.Path("docs/scenario.schema.json")));
        return schema.RootElement.GetProperty("properties").Clone();
    }

    [Fact]
    public void Every_field_the_schema_publishes_with_a_default_is_accepted_by_the_reader_with_that_default()
    {
        var root = Schema();
        var host = root.GetProperty("host").GetProperty("properties");
        var vm = root.GetProperty("vms").GetProperty("items").GetProperty("properties");
        var workload = vm.GetProperty("workload").GetProperty("properties");

        static string Defaults(JsonElement props) => string.Join(", ", props.EnumerateObject()
            .Where(p => p.Value.TryGetProperty("default", out _))
            .Select(p => $"\"{p.Name}\": {p.Value.GetProperty("default").GetRawText()}"));

        var json = $$"""
            { {{Defaults(root)}},
              "host": { {{Defaults(host)}} },
              "vms": [ { "name": "a", "memoryMB": 64, {{Defaults(vm)}}, "workload": { {{Defaults(workload)}} } } ] }
            """;
        var s = ScenarioReader.Parse(json);
        Assert.Equal(new HostSpec(), s.Host);
        Assert.Equivalent(new VmSpec { Name = "a", MemoryMB = 64 }, s.Vms[0], strict: true);
        Assert.True(host.EnumerateObject().Count() >= 19);
    }

    [Fact]
    public void The_schemas_enums_are_the_names_the_reader_and_writer_use_in_the_same_order()
    {
        var root = Schema();
        var vm = root.GetProperty("vms").GetProperty("items").GetProperty("properties");
        static IReadOnlyList<string?> Enum(JsonElement field) => [.. field.GetProperty("enum").EnumerateArray().Select(e => e.GetString())];

        Assert.Equal(ScenarioNames.Salting.Names, Enum(root.GetProperty("host").GetProperty("properties").GetProperty("salting")));
        Assert.Equal(ScenarioNames.Guest.Names, Enum(vm.GetProperty("guest")));
        Assert.Equal(ScenarioNames.BalloonDriver.Names, Enum(vm.GetProperty("balloonDriver")));
        Assert.Equal(ScenarioNames.Kind.Names, Enum(vm.GetProperty("workload").GetProperty("properties").GetProperty("kind")));
        Assert.Equal(ScenarioNames.Distribution.Names, Enum(vm.GetProperty("workload").GetProperty("properties").GetProperty("distribution")));
        Assert.Equal(ScenarioNames.SharesPreset.Names, Enum(vm.GetProperty("shares").GetProperty("oneOf")[0]));
    }

    [Fact]
    public void Every_value_of_every_enum_of_the_model_has_a_name()
    {
        static void All<T>(NameTable<T> table, params T[] unnamed)
            where T : struct, Enum =>
            Assert.Equal(Enum.GetValues<T>().Except(unnamed).Order(), table.Values.Order());

        All(ScenarioNames.Salting);
        All(ScenarioNames.Guest);
        All(ScenarioNames.BalloonDriver);
        All(ScenarioNames.Kind);
        All(ScenarioNames.Distribution);
        All(ScenarioNames.SharesPreset, SharesLevel.Custom);
    }
}
