/*
 * Host discovery: telling a static busybox from a dynamic program, finding a guest kernel only where
 * its virtio modules are, and install lines that name the packages.
 */
using Memvisor.Qemu.Images;

namespace Memvisor.Qemu.Tests.Images;

public sealed class HostToolsTests
{
    [Fact]
    public void A_dynamically_linked_program_and_a_text_file_are_not_static_executables()
    {
        var dotnet = Environment.ProcessPath!;
        var text = Path.GetTempFileName();
        try
        {
            File.WriteAllText(text, "not an ELF file");
            Assert.False(StaticElf.IsStaticExecutable(text));
            Assert.False(StaticElf.IsStaticExecutable(File.Exists("/bin/ls") ? "/bin/ls" : dotnet));
        }
        finally
        {
            File.Delete(text);
        }
    }

    [Fact]
    public void The_installed_busybox_static_is_recognised()
    {
        if (HostTools.FindOnPath("busybox") is null)
        {
            Assert.Skip("busybox is not installed");
        }

        Assert.True(HostTools.FindStaticBusybox() is not null, $"busybox is installed but not static: {HostPackages.InstallLine([HostPackage.BusyboxStatic])}");
    }

    [Fact]
    public void A_kernel_counts_only_with_all_its_virtio_modules_and_a_cloud_kernel_is_preferred()
    {
        var root = Directory.CreateTempSubdirectory("memvisor-kernels-").FullName;
        try
        {
            var boot = Directory.CreateDirectory(Path.Combine(root, "boot")).FullName;
            var modules = Path.Combine(root, "modules");
            void Kernel(string version, IEnumerable<string> moduleNames)
            {
                File.WriteAllText(Path.Combine(boot, $"vmlinuz-{version}"), "kernel");
                var folder = Directory.CreateDirectory(Path.Combine(modules, version, "kernel", "drivers")).FullName;
                foreach (var name in moduleNames)
                {
                    File.WriteAllText(Path.Combine(folder, $"{name}.ko"), name);
                }
            }

            Kernel("6.9.0-1-amd64", HostTools.VirtioModules);
            Kernel("6.1.0-5-cloud-amd64", HostTools.VirtioModules);
            Kernel("6.12.0-1-cloud-amd64", HostTools.VirtioModules.Where(m => m != "virtio_balloon"));

            var kernel = HostTools.FindGuestKernel(boot, modules);

            Assert.NotNull(kernel);
            Assert.Equal("6.1.0-5-cloud-amd64", kernel.Version);
            Assert.Equal(HostTools.VirtioModules, kernel.Modules.Select(Path.GetFileNameWithoutExtension));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void The_install_line_names_each_missing_package_once()
    {
        var line = HostPackages.InstallLine([HostPackage.GuestKernel, HostPackage.Qemu, HostPackage.GuestKernel]);

        Assert.Equal("apt-get update && apt-get install -y --no-install-recommends qemu-system-x86 linux-image-cloud-amd64", line);
        var error = new MissingHostPackageException(HostPackage.BusyboxStatic, "no static busybox");
        Assert.EndsWith("apt-get install -y --no-install-recommends busybox-static", error.Message, StringComparison.Ordinal);
    }
}
