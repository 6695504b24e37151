namespace DmPowerShell.Registry;

/// <summary>Where a pool's data and metadata live.</summary>
public enum PoolBacking
{
    /// <summary>Sparse files on loop devices (the guide's loop-lvm).</summary>
    Loop,
    /// <summary>Block devices given by the user (the guide's direct-lvm, without LVM).</summary>
    Direct,
    /// <summary>An LVM thin-pool LV (the guide's direct-lvm): LVM owns its table, ids and size.</summary>
    Lvm,
}
