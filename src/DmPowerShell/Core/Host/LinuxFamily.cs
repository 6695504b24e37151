namespace DmPowerShell.Host;

/// <summary>The distribution families whose package names differ for what the module needs.</summary>
public enum LinuxFamily
{
    /// <summary>An os-release the module does not recognise (or none): help names every family's package.</summary>
    Unknown,
    /// <summary>Debian, Ubuntu and their derivatives (apt).</summary>
    Debian,
    /// <summary>RHEL, its rebuilds (Rocky, Alma, Oracle, CentOS) and Fedora (dnf).</summary>
    RedHat,
    /// <summary>SUSE Linux Enterprise and openSUSE (zypper).</summary>
    Suse,
    /// <summary>Arch Linux and its derivatives (pacman).</summary>
    Arch,
    /// <summary>Alpine Linux (apk).</summary>
    Alpine,
}
