using DmPowerShell.Interop;

namespace DmPowerShell.Storage;

/// <summary>Refusals before the module writes to a block device the user named.</summary>
public static class DeviceChecks
{
    public static DeviceNumber RequireBlockDevice(string path)
    {
        if (!BlockDevices.IsBlockDevice(path))
        {
            throw new DmPowerShellException(ErrorIds.DeviceNotFound, ErrorKind.NotFound, $"{path} is not a block device.", path);
        }
        return BlockDevices.GetDeviceNumber(path);
    }

    /// <summary>A device the module is about to overwrite: not in use, and without a signature unless forced.</summary>
    public static void CheckDeviceFree(string device, bool force)
    {
        if (DeviceUsage.WhyBusy(device) is { } busy)
        {
            throw new DmPowerShellException(ErrorIds.DeviceInUse, ErrorKind.ResourceBusy, $"Refusing to use {device}: {busy}.", device);
        }
        if (!force && DeviceUsage.Signature(device) is { } signature)
        {
            throw new DmPowerShellException(ErrorIds.DeviceHasSignature, ErrorKind.InvalidArgument,
                $"{device} carries {signature}. Its contents would be lost: check it is the right device, then add -Force.", device);
        }
    }
}
