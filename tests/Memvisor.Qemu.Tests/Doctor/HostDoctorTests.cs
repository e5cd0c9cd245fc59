/*
 * `host doctor` on this machine: every check reports, and the install line names exactly the
 * packages of the checks that are missing.
 */
using Memvisor.Qemu.Doctor;
using Memvisor.Qemu.Images;

namespace Memvisor.Qemu.Tests.Doctor;

public sealed class HostDoctorTests
{
    [Fact]
    public void The_install_line_names_the_missing_packages_only()
    {
        HostCheck[] checks =
        [
            new("QEMU", CheckStatus.Missing, "not on PATH", HostPackage.Qemu),
            new("accelerator", CheckStatus.Limited, "TCG only"),
            new("busybox", CheckStatus.Missing, "dynamic", HostPackage.BusyboxStatic),
            new("guest kernel", CheckStatus.Ok, "found"),
        ];

        Assert.Equal(HostPackages.InstallLine([HostPackage.Qemu, HostPackage.BusyboxStatic]), HostDoctor.InstallLine(checks));
        Assert.Null(HostDoctor.InstallLine(checks.Where(c => c.Status != CheckStatus.Missing)));
    }

    [Fact]
    public async Task Every_check_reports_and_the_findings_agree_with_the_host_tools()
    {
        var checks = await HostDoctor.CheckAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["QEMU", "guest kernel", "busybox", "gcc", "accelerator", "KSM", "host swap", "cgroups", "THP"], checks.Select(c => c.Name));
        Assert.All(checks, c => Assert.False(string.IsNullOrWhiteSpace(c.Detail)));
        Assert.Equal(HostTools.FindGuestKernel() is null, checks.Single(c => c.Name == "guest kernel").Status == CheckStatus.Missing);
        Assert.Equal(HostTools.FindOnPath("qemu-system-x86_64") is null, checks.Single(c => c.Name == "QEMU").Status == CheckStatus.Missing);
    }
}
