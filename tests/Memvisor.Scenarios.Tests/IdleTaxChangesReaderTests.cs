using Memvisor.Core.Allocation;
using Memvisor.Scenarios;

namespace Memvisor.Scenarios.Tests;

public class IdleTaxChangesReaderTests
{
    [Fact]
    public void Tax_changes_read_into_the_host_in_their_order()
    {
        var s = ScenarioReader.Parse($$"""
            { "host": { "idleTax": 0, "idleTaxChanges": [ { "atSeconds": 1200, "tau": 0.75 }, { "atSeconds": 1800, "tau": 0.5 } ] }, {{ScenarioReaderTests.OneVm}} }
            """);
        Assert.Equal([new IdleTaxChange(1200, 0.75), new IdleTaxChange(1800, 0.5)], s.Host.IdleTaxChanges);
        Assert.Empty(ScenarioReader.Parse($$"""{ {{ScenarioReaderTests.OneVm}} }""").Host.IdleTaxChanges);
    }

    [Theory]
    [InlineData("""{ "host": { "idleTaxChanges": [ { "atSeconds": 60, "tau": 1 } ] } }""", "host.idleTaxChanges[0].tau: 1; expected a number from 0 to 0.99")]
    [InlineData("""{ "host": { "idleTaxChanges": [ { "tau": 0.5 } ] } }""", "host.idleTaxChanges[0].atSeconds: missing")]
    [InlineData("""{ "host": { "idleTaxChanges": [ { "atSeconds": 60, "tau": 0.5, "rate": 1 } ] } }""", "host.idleTaxChanges[0].rate: unknown field")]
    [InlineData("""{ "host": { "idleTaxChanges": [ { "atSeconds": 60, "tau": 0.5 }, { "atSeconds": 60, "tau": 0.75 } ] } }""", "host.idleTaxChanges[1].atSeconds: 60; expected changes in increasing order of atSeconds")]
    public void Bad_tax_changes_get_an_error_naming_the_field(string json, string expected)
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(json, "test.json"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
