using DmPowerShell.Storage;

namespace DmPowerShell.Tests.Unit.Pools;

/// <summary>thin_check --version as each suite prints it.</summary>
public sealed class ThinToolsTests
{
    [Theory]
    [InlineData("0.9.0\n", "0.9.0")]   // Debian 12's C++ suite
    [InlineData("1.1.0\n", "1.1.0")]   // Debian 13's Rust rewrite
    [InlineData("thin_check 1.0.12\n", "1.0.12")]
    [InlineData("", null)]
    public void The_version_is_the_first_number_printed(string output, string? version) =>
        Assert.Equal(version, ThinTools.ParseVersion(output));
}
