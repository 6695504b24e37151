using DmPowerShell.Registry;

namespace DmPowerShell.Pools;

/// <summary>
/// Tells a container runtime's thin devices by their names, as the runtimes make them: Docker's
/// devicemapper driver names its devices docker-&lt;major&gt;:&lt;minor&gt;-&lt;inode&gt;-&lt;id&gt; (and -base),
/// containerd's devmapper snapshotter &lt;pool_name&gt;-snap-&lt;id&gt;. Neither sets a uuid.
/// </summary>
public static class RuntimeDevices
{
    public static PoolRuntime Of(string poolDeviceName, string thinDeviceName) =>
        thinDeviceName.StartsWith("docker-", StringComparison.Ordinal) ? PoolRuntime.Docker
        : thinDeviceName.StartsWith(poolDeviceName + "-snap-", StringComparison.Ordinal) ? PoolRuntime.Containerd
        : PoolRuntime.None;

    /// <summary>
    /// The runtime that drives a pool: the one its record names (Set-ThinPool -HandedTo), else one
    /// whose devices are among the pool's live thin devices (enumerated only when none is recorded).
    /// </summary>
    public static PoolRuntime Driving(PoolRuntime recorded, string poolDeviceName, IEnumerable<string> liveThinDevices) =>
        recorded != PoolRuntime.None ? recorded : Among(poolDeviceName, liveThinDevices);

    /// <summary>The runtime whose devices are among <paramref name="thinDeviceNames"/> (the first found), or None.</summary>
    public static PoolRuntime Among(string poolDeviceName, IEnumerable<string> thinDeviceNames) =>
        thinDeviceNames.Select(name => Of(poolDeviceName, name)).FirstOrDefault(r => r != PoolRuntime.None);
}
