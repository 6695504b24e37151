using DmPowerShell.Host;

namespace DmPowerShell.Tests.Unit.Host;

/// <summary>os-release as the families write it (quoted or not, ID_LIKE lists), and the family the module reads from it.</summary>
public sealed class OsReleaseTests
{
    [Theory]
    [InlineData("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n", LinuxFamily.Debian)]
    [InlineData("NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\n", LinuxFamily.Debian)]
    [InlineData("NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"9.4\"\n", LinuxFamily.RedHat)]
    [InlineData("NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n", LinuxFamily.RedHat)]
    [InlineData("NAME=\"AlmaLinux\"\nID=\"almalinux\"\nID_LIKE=\"rhel centos fedora\"\n", LinuxFamily.RedHat)]
    [InlineData("NAME=\"Oracle Linux Server\"\nID=\"ol\"\nID_LIKE=\"fedora\"\n", LinuxFamily.RedHat)]
    [InlineData("NAME=Fedora\nID=fedora\n", LinuxFamily.RedHat)]
    [InlineData("NAME=\"openSUSE Tumbleweed\"\nID=\"opensuse-tumbleweed\"\nID_LIKE=\"opensuse suse\"\n", LinuxFamily.Suse)]
    [InlineData("NAME=\"SLES\"\nID=\"sles\"\nID_LIKE=\"suse\"\n", LinuxFamily.Suse)]
    [InlineData("NAME=\"Arch Linux\"\nID=arch\n", LinuxFamily.Arch)]
    [InlineData("NAME=\"Alpine Linux\"\nID=alpine\n", LinuxFamily.Alpine)]
    [InlineData("NAME=\"Something\"\nID=something\nID_LIKE=\"other\"\n", LinuxFamily.Unknown)]
    [InlineData("", LinuxFamily.Unknown)]
    public void The_family_comes_from_ID_then_ID_LIKE(string text, LinuxFamily family) =>
        Assert.Equal(family, OsRelease.Parse(text).Family);

    [Fact]
    public void Quotes_comments_and_blank_lines_are_read_as_the_format_says()
    {
        var release = OsRelease.Parse("# a comment\n\nID='rocky'\nID_LIKE=\"RHEL centos\"\nPRETTY_NAME=\"Rocky Linux 9.4 (Blue Onyx)\"\n");
        Assert.Equal("rocky", release.Id);
        Assert.Equal(new[] { "rhel", "centos" }, release.IdLike);
        Assert.Equal("Rocky Linux 9.4 (Blue Onyx)", release.PrettyName);
    }

    [Fact]
    public void DMPS_OS_RELEASE_names_another_file_and_a_missing_one_falls_back_to_the_hosts()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "ID=\"rhel\"\nID_LIKE=\"fedora\"\n");
            Environment.SetEnvironmentVariable("DMPS_OS_RELEASE", file);
            Assert.Equal(LinuxFamily.RedHat, OsRelease.Current().Family);
            Environment.SetEnvironmentVariable("DMPS_OS_RELEASE", file + ".missing");
            Assert.NotEqual("rhel", OsRelease.Current().Id);
        }
        finally
        {
            Environment.SetEnvironmentVariable("DMPS_OS_RELEASE", null);
            File.Delete(file);
        }
    }
}
