using System.Text.RegularExpressions;

namespace DmPowerShell.Storage;

/// <summary>
/// thin-provisioning-tools as this host has them, read once per process from `thin_check --version`:
/// 0.9.x is the C++ suite (Debian 12, Ubuntu 22.04), 1.x the Rust rewrite (Debian 13, RHEL 9, Fedora,
/// Ubuntu 24.04). Where their behaviour differs, the module's handling works with both, and its
/// comment names the version (PoolMetadata.WithDataBlocks, ThinDeviceUsage.Parse, PoolMetadata.ParseXml).
/// </summary>
public static partial class ThinTools
{
    private static readonly Lazy<string?> InstalledVersion = new(Read, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>"0.9.0", "1.1.0", ...; null when thin_check cannot be run.</summary>
    public static string? Version => InstalledVersion.Value;

    /// <summary>The version in `thin_check --version`'s output (both suites print the bare number; a name before it is allowed).</summary>
    public static string? ParseVersion(string output) => VersionNumber().Match(output) is { Success: true } m ? m.Value : null;

    private static string? Read()
    {
        try
        {
            var result = ExternalTool.Run("thin_check", new[] { "--version" }, TimeSpan.FromSeconds(60));
            return result.ExitCode == 0 ? ParseVersion(result.Output + result.Error) : null;
        }
        catch (DmPowerShellException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"\b\d+\.\d+(\.\d+)?\b")]
    private static partial Regex VersionNumber();
}
