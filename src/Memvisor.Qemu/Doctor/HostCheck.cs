/*
 * One line of `memvisor host doctor`: what was checked, whether it is fine, and what was found.
 */
namespace Memvisor.Qemu.Doctor;

/// <summary>How a check came out.</summary>
public enum CheckStatus
{
    /// <summary>Present and usable.</summary>
    Ok,

    /// <summary>Works, with a limit the user should know (TCG instead of KVM, no host swap).</summary>
    Limited,

    /// <summary>Missing: real guests cannot run until it is installed.</summary>
    Missing,
}

/// <summary>The result of one check.</summary>
/// <param name="Name">What was checked ("QEMU", "guest kernel"...).</param>
/// <param name="Status">The outcome.</param>
/// <param name="Detail">What was found, or what is missing and why it matters.</param>
/// <param name="Package">The package that fixes a Missing check, if one does.</param>
public sealed record HostCheck(string Name, CheckStatus Status, string Detail, Images.HostPackage? Package = null);
