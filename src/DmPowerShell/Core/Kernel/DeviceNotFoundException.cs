namespace DmPowerShell.Kernel;

/// <summary>The named device does not exist (ENXIO).</summary>
public sealed class DeviceNotFoundException : DeviceMapperException
{
    public DeviceNotFoundException(DmOperation operation, string? device, int errno, string? detail = null)
        : base(operation, device, errno, detail) { }
}
