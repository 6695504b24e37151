using DmPowerShell.Host;
using DmPowerShell.Interop;
using DmPowerShell.Kernel;

namespace DmPowerShell.Tests.Unit.Interop;

/// <summary>libdevmapper found under each family's soname, in order, and the error when none loads.</summary>
public sealed class LibDevMapperLoaderTests
{
    [Fact]
    public void Sonames_are_tried_Debians_first_then_upstreams_then_SUSEs_then_the_development_link() =>
        Assert.Equal(new[] { "libdevmapper.so.1.02.1", "libdevmapper.so.1.02", "libdevmapper.so.1.03", "libdevmapper.so" },
            LibDevMapperLoader.Sonames);

    [Fact]
    public void The_first_soname_that_loads_wins_and_later_ones_are_not_tried()
    {
        var tried = new List<string>();
        var (handle, soname) = LibDevMapperLoader.FirstLoadable(LibDevMapperLoader.Sonames, name =>
        {
            tried.Add(name);
            return name == "libdevmapper.so.1.02" ? new IntPtr(42) : IntPtr.Zero; // a RHEL host
        });
        Assert.Equal(new IntPtr(42), handle);
        Assert.Equal("libdevmapper.so.1.02", soname);
        Assert.Equal(new[] { "libdevmapper.so.1.02.1", "libdevmapper.so.1.02" }, tried);
    }

    [Fact]
    public void None_loading_tries_every_soname_and_gives_no_handle()
    {
        var tried = new List<string>();
        var (handle, soname) = LibDevMapperLoader.FirstLoadable(LibDevMapperLoader.Sonames, name => { tried.Add(name); return IntPtr.Zero; });
        Assert.Equal(IntPtr.Zero, handle);
        Assert.Null(soname);
        Assert.Equal(LibDevMapperLoader.Sonames, tried);
    }

    [Fact]
    public void The_error_lists_the_sonames_tried_and_the_hosts_own_package()
    {
        var rhel = DeviceMapperClient.LibraryMissingMessage(OsRelease.Parse("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n"));
        Assert.Equal("libdevmapper was not found (tried libdevmapper.so.1.02.1, libdevmapper.so.1.02, libdevmapper.so.1.03, libdevmapper.so). " +
            "Install it (RHEL/Fedora: dnf install device-mapper-libs).", rhel);
        Assert.EndsWith("(Debian/Ubuntu: apt-get install libdevmapper1.02.1).", DeviceMapperClient.LibraryMissingMessage(OsRelease.Parse("ID=debian")));
    }
}
