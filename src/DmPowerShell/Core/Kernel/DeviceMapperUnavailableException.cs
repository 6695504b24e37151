namespace DmPowerShell.Kernel;

/// <summary>No device-mapper driver can be reached: not loaded, no permission, or no libdevmapper.</summary>
public sealed class DeviceMapperUnavailableException : DeviceMapperException
{
    public DeviceMapperUnavailableException(string reason, int errno = 0)
        : base(DmOperation.Version, null, errno, null, reason) { }
}
