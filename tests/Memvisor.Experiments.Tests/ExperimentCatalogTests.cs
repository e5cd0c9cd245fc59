using Memvisor.Experiments.RealGuests;

namespace Memvisor.Experiments.Tests;

/// <summary>The catalogs are written out by hand: every experiment a user can run must be in exactly one of them, once.</summary>
public sealed class ExperimentCatalogTests
{
    [Fact]
    public void Every_concrete_experiment_of_the_assembly_is_listed_once()
    {
        var concrete = typeof(ExperimentCatalog).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IExperiment).IsAssignableFrom(t))
            .Select(t => t.FullName!)
            .Order(StringComparer.Ordinal);
        var listed = ExperimentCatalog.All.Concat(RealGuestCatalog.All)
            .Select(e => e.GetType().FullName!)
            .Order(StringComparer.Ordinal);

        Assert.Equal(concrete, listed);
    }

    [Fact]
    public void Real_guest_experiments_are_only_in_the_real_guest_catalog()
    {
        Assert.All(RealGuestCatalog.All, e => Assert.True(IsRealGuest(e.GetType()), e.GetType().Name));
        Assert.All(ExperimentCatalog.All, e => Assert.False(IsRealGuest(e.GetType()), e.GetType().Name));
    }

    private static bool IsRealGuest(Type type)
    {
        for (var t = type.BaseType; t is not null; t = t.BaseType)
        {
            if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(RealGuestExperiment<>))
            {
                return true;
            }
        }

        return false;
    }
}
