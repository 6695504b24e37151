namespace DmPowerShell.Pools;

/// <summary>Who made a thin pool, judged from its dm uuid and name.</summary>
public enum PoolManager
{
    DmPowerShell,
    Lvm,
    Docker,
    Other,
}
