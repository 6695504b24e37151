namespace DmPowerShell.Host;

/// <summary>Which package provides each program and library the module uses, per distribution family, and how to install it.</summary>
public static class HelperPackages
{
    /// <summary>The libdevmapper the module binds (not a program: named by this key).</summary>
    public const string LibDevMapper = "libdevmapper";

    // Package names from each family's own package contents (Debian's, Fedora/RHEL 9's, openSUSE Tumbleweed's,
    // Arch's and Alpine's): thin-provisioning-tools is device-mapper-persistent-data on RHEL and Fedora only.
    private static readonly (Func<string, bool> Matches, string Debian, string RedHat, string Suse, string Arch, string Alpine)[] Table =
    {
        (p => p == LibDevMapper, "libdevmapper1.02.1", "device-mapper-libs", "libdevmapper1_03", "device-mapper", "device-mapper-libs"),
        (p => p.StartsWith("thin_", StringComparison.Ordinal) || p == "pdata_tools",
            "thin-provisioning-tools", "device-mapper-persistent-data", "thin-provisioning-tools", "thin-provisioning-tools", "thin-provisioning-tools"),
        (p => p is "dmsetup", "dmsetup", "device-mapper", "device-mapper", "device-mapper", "device-mapper"),
        (p => p is "mkfs.ext4" or "resize2fs" or "e2fsck" or "tune2fs", "e2fsprogs", "e2fsprogs", "e2fsprogs", "e2fsprogs", "e2fsprogs"),
        (p => p is "mkfs.xfs" or "xfs_growfs" or "xfs_repair", "xfsprogs", "xfsprogs", "xfsprogs", "xfsprogs", "xfsprogs"),
        (p => p is "blkid" or "wipefs" or "fstrim" or "losetup" or "findmnt" or "mount" or "umount",
            "util-linux", "util-linux", "util-linux", "util-linux", "util-linux"),
        (p => p is "lvm" or "pvcreate" or "vgcreate" or "lvcreate" or "lvconvert" or "lvextend" or "lvremove" or "lvs" or "vgs" or "pvs" or "lvchange" or "vgremove" or "pvremove",
            "lvm2", "lvm2", "lvm2", "lvm2", "lvm2"),
    };

    /// <summary>The package that provides <paramref name="program"/> on <paramref name="family"/>, or null when the module does not know it.</summary>
    public static string? PackageOf(string program, LinuxFamily family)
    {
        var name = Path.GetFileName(program);
        foreach (var row in Table)
        {
            if (!row.Matches(name)) continue;
            return family switch
            {
                LinuxFamily.RedHat => row.RedHat,
                LinuxFamily.Suse => row.Suse,
                LinuxFamily.Arch => row.Arch,
                LinuxFamily.Alpine => row.Alpine,
                _ => row.Debian,
            };
        }
        return null;
    }

    /// <summary>
    /// The install advice for an error: this family's command ("Install it (RHEL/Fedora: dnf install
    /// device-mapper-persistent-data)"), or, on a host the module does not recognise, the three main families'.
    /// </summary>
    public static string InstallAdvice(string program, OsRelease host)
    {
        var family = host.Family;
        if (PackageOf(program, LinuxFamily.Debian) is null)
        {
            return $"Install the package that provides {Path.GetFileName(program)}.";
        }
        if (family == LinuxFamily.Unknown)
        {
            var each = new[] { LinuxFamily.Debian, LinuxFamily.RedHat, LinuxFamily.Suse }.Select(f => Command(program, f));
            return $"Install it ({string.Join("; ", each)}).";
        }
        return $"Install it ({Command(program, family)}).";
    }

    private static string Command(string program, LinuxFamily family)
    {
        var package = PackageOf(program, family);
        return family switch
        {
            LinuxFamily.RedHat => $"RHEL/Fedora: dnf install {package}",
            LinuxFamily.Suse => $"SUSE: zypper install {package}",
            LinuxFamily.Arch => $"Arch: pacman -S {package}",
            LinuxFamily.Alpine => $"Alpine: apk add {package}",
            _ => $"Debian/Ubuntu: apt-get install {package}",
        };
    }
}
