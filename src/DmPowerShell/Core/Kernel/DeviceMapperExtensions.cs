namespace DmPowerShell.Kernel;

public static class DeviceMapperExtensions
{
    public static string? SendMessage(this IDeviceMapper dm, string name, PoolMessage message) => dm.SendMessage(name, message.Text);

    /// <summary>A listed device's uuid: as the list carries it, else asked of the device (a kernel before dm ioctl 4.45).</summary>
    public static string? UuidOf(this IDeviceMapper dm, DeviceListEntry entry) => entry.Uuid ?? dm.GetInfo(entry.Name)?.Uuid;

    /// <summary>
    /// A thin device's info and the bytes it maps (null when its status is not readable), from
    /// one ioctl; null when no device of that name carries <paramref name="uuid"/>.
    /// </summary>
    public static (DeviceInfo Info, long? MappedBytes)? GetThinDevice(this IDeviceMapper dm, string name, string uuid)
    {
        if (dm.GetInfoAndStatus(name) is not { } live || live.Info.Uuid != uuid)
        {
            return null;
        }
        long? mapped = null;
        if (live.Status is [{ TargetType: "thin" } target] && ThinDeviceStatus.Parse(target.Parameters) is { Health: TargetHealth.Ok } status)
        {
            mapped = (long)status.MappedBytes;
        }
        return (live.Info, mapped);
    }
}
