using Memvisor.Scenarios;

namespace Memvisor.Simulation.Scenarios;

/// <summary>Scenarios shipped inside Memvisor.</summary>
public static class BuiltInScenarios
{
    /// <summary>The JSON text of a built-in scenario.</summary>
    public static string Text(string name)
    {
        using var stream = typeof(BuiltInScenarios).Assembly.GetManifestResourceStream($"Memvisor.Simulation.Scenarios.{name}.json")
            ?? throw new ArgumentException($"There is no built-in scenario '{name}'.", nameof(name));
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The scenario `memvisor simulate` runs without an argument.</summary>
    public static Scenario Default => ScenarioReader.Parse(Text("default"), "built-in default scenario");
}
