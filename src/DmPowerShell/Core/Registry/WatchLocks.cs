namespace DmPowerShell.Registry;

/// <summary>
/// The lock a pool's watcher holds while it runs, one per pool device: how a status read knows
/// a pool is watched (and by whom), and why a second watcher of the same pool is refused. Per
/// host and gone after a reboot, as a watch is.
/// </summary>
public static class WatchLocks
{
    public const string Folder = "/run/dmpowershell/watch";

    public static string PathOf(string deviceName) => Path.Combine(Folder, deviceName + ".lock");

    /// <summary>Who watches the pool device (process, command line, since when), or null.</summary>
    public static string? HolderOf(string deviceName) => FileLock.HolderOf(PathOf(deviceName));
}
