namespace DmPowerShell.Interop;

/// <summary>
/// The devices stacked on a block device, as sysfs lists them (/sys/dev/block/M:m/holders):
/// the kernel links a dm device there when a table it loads opens the device, so a thin pool's
/// holders are its thin devices (and, for LVM's pools, LVM's own layer). One directory read,
/// where asking device-mapper means reading the table of every device on the host.
/// </summary>
public static class BlockHolders
{
    /// <summary>
    /// The device numbers of the device-mapper devices holding <paramref name="device"/> (a dm
    /// device itself: dm names its disks dm-&lt;minor&gt; under its one major), or null when sysfs
    /// cannot tell (not mounted, or no such device).
    /// </summary>
    public static IReadOnlyList<DeviceNumber>? DeviceMapperHoldersOf(DeviceNumber device, string sysfs = "/sys")
    {
        var entries = DirectoryNames.Read($"{sysfs}/dev/block/{device}/holders");
        if (entries is null)
        {
            return null;
        }
        var holders = new List<DeviceNumber>(entries.Count);
        foreach (var name in entries)
        {
            if (name.StartsWith("dm-", StringComparison.Ordinal) && uint.TryParse(name.AsSpan(3), out var minor))
            {
                holders.Add(new DeviceNumber(device.Major, minor));
            }
        }
        return holders;
    }
}
