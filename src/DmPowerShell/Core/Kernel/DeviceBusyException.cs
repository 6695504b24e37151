namespace DmPowerShell.Kernel;

/// <summary>The device (or thin id) is in use (EBUSY).</summary>
public sealed class DeviceBusyException : DeviceMapperException
{
    public DeviceBusyException(DmOperation operation, string? device, int errno, string? detail = null, string? message = null)
        : base(operation, device, errno, detail, message) { }
}
