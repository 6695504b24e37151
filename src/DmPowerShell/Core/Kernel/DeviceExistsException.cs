namespace DmPowerShell.Kernel;

/// <summary>A device of that name or uuid, or a thin id, already exists (EEXIST).</summary>
public sealed class DeviceExistsException : DeviceMapperException
{
    public DeviceExistsException(DmOperation operation, string? device, int errno, string? detail = null)
        : base(operation, device, errno, detail) { }
}
