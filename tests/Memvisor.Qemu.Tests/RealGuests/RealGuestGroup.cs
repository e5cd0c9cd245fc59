/*
 * Real-guest tests run one class at a time: guests booting side by side under TCG on a 2-core host
 * slow each other (and the rest of the test run) down for nothing.
 */
namespace Memvisor.Qemu.Tests.RealGuests;

/// <summary>The collection every real-guest test class belongs to.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealGuestGroup
{
    /// <summary>The collection's name.</summary>
    public const string Name = "real guests";
}
