using DmPowerShell.Host;

namespace DmPowerShell.Tests.Unit.Host;

/// <summary>The install advice of ToolMissing and of a missing libdevmapper names the package of the host's own family.</summary>
public sealed class HelperPackagesTests
{
    private static readonly OsRelease Debian = OsRelease.Parse("ID=debian\n");
    private static readonly OsRelease Rhel = OsRelease.Parse("ID=\"rhel\"\nID_LIKE=\"fedora\"\n");
    private static readonly OsRelease Suse = OsRelease.Parse("ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\n");

    [Theory]
    [InlineData("thin_ls", "Install it (Debian/Ubuntu: apt-get install thin-provisioning-tools).")]
    [InlineData("/usr/sbin/thin_check", "Install it (Debian/Ubuntu: apt-get install thin-provisioning-tools).")]
    [InlineData("mkfs.xfs", "Install it (Debian/Ubuntu: apt-get install xfsprogs).")]
    [InlineData("libdevmapper", "Install it (Debian/Ubuntu: apt-get install libdevmapper1.02.1).")]
    [InlineData("lvcreate", "Install it (Debian/Ubuntu: apt-get install lvm2).")]
    public void Debian_gets_apt_and_its_package(string program, string advice) =>
        Assert.Equal(advice, HelperPackages.InstallAdvice(program, Debian));

    [Theory]
    [InlineData("thin_ls", "Install it (RHEL/Fedora: dnf install device-mapper-persistent-data).")]
    [InlineData("thin_repair", "Install it (RHEL/Fedora: dnf install device-mapper-persistent-data).")]
    [InlineData("libdevmapper", "Install it (RHEL/Fedora: dnf install device-mapper-libs).")]
    [InlineData("dmsetup", "Install it (RHEL/Fedora: dnf install device-mapper).")]
    [InlineData("mkfs.ext4", "Install it (RHEL/Fedora: dnf install e2fsprogs).")]
    public void The_RHEL_family_gets_dnf_and_its_own_names(string program, string advice) =>
        Assert.Equal(advice, HelperPackages.InstallAdvice(program, Rhel));

    [Fact]
    public void SUSE_gets_zypper_and_libdevmapper1_03() =>
        Assert.Equal("Install it (SUSE: zypper install libdevmapper1_03).", HelperPackages.InstallAdvice("libdevmapper", Suse));

    [Fact]
    public void An_unknown_host_is_told_the_three_main_families() =>
        Assert.Equal("Install it (Debian/Ubuntu: apt-get install thin-provisioning-tools; RHEL/Fedora: dnf install device-mapper-persistent-data; SUSE: zypper install thin-provisioning-tools).",
            HelperPackages.InstallAdvice("thin_dump", OsRelease.None));

    [Fact]
    public void A_program_the_module_does_not_know_is_named_without_a_guess() =>
        Assert.Equal("Install the package that provides frobnicate.", HelperPackages.InstallAdvice("/usr/bin/frobnicate", Rhel));
}
