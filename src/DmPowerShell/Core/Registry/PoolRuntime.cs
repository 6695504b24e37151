namespace DmPowerShell.Registry;

/// <summary>
/// A container runtime that drives a pool's thin ids (and, for Docker, its transaction id) with
/// bookkeeping of its own: the module leaves that pool's thin ids to it.
/// </summary>
public enum PoolRuntime
{
    None,
    /// <summary>Docker's devicemapper driver (dm.thinpooldev): thin devices named docker-*.</summary>
    Docker,
    /// <summary>containerd's devmapper snapshotter (pool_name): thin devices named &lt;pool&gt;-snap-*.</summary>
    Containerd,
}
