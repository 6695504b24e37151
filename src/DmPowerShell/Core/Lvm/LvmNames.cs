namespace DmPowerShell.Lvm;

/// <summary>LVM's dm names: `vg-lv`, each '-' inside a name doubled.</summary>
public static class LvmNames
{
    /// <summary>Once thin LVs exist, LVM maps the thin-pool target itself under this name.</summary>
    public static string PoolTargetName(string volumeGroup, string logicalVolume) => Registry.Naming.LvmDeviceName(volumeGroup, logicalVolume) + "-tpool";

    /// <summary>LVM's own rule for VG and LV names: letters, digits and + _ . -, not starting with '-'.</summary>
    public static bool IsValid(string name) =>
        name.Length is > 0 and <= 127 && name[0] != '-' && name is not "." and not ".."
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '_' or '.' or '-');
}
