using Memvisor.Qemu.Substrate;

namespace Memvisor.Qemu.Tests.Substrate;

/// <summary>
/// A run asked to drive KSM where it cannot (no KSM in the kernel, or not root) says so once and runs on
/// without it; not asked, it says nothing.
/// </summary>
public sealed class PolicyLoopKsmTests
{
    [Fact]
    public void KSM_that_cannot_be_driven_is_said_in_one_line_naming_why()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"memvisor-no-ksm-{Guid.NewGuid():N}");

        var ksm = PolicyLoop.OpenKsm(drive: true, out var notDriven, mergeZeroPages: false, missing);

        Assert.Null(ksm);
        Assert.NotNull(notDriven);
        Assert.StartsWith("KSM not driven", notDriven, StringComparison.Ordinal);
        Assert.Contains(missing, notDriven, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', notDriven);
    }

    [Fact]
    public void KSM_not_asked_for_is_left_alone_without_a_word()
    {
        var ksm = PolicyLoop.OpenKsm(drive: false, out var notDriven, mergeZeroPages: false, "/nonexistent");

        Assert.Null(ksm);
        Assert.Null(notDriven);
    }
}
