namespace DmPowerShell.Kernel;

public static class DeviceMapperExtensions
{
    public static string? SendMessage(this IDeviceMapper dm, string name, PoolMessage message) => dm.SendMessage(name, message.Text);
}
