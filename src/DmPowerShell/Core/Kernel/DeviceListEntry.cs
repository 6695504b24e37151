namespace DmPowerShell.Kernel;

/// <summary>A device as DM_DEVICE_LIST names it.</summary>
/// <param name="Uuid">
/// The device's uuid as the list reports it (dm ioctl 4.45 and later): "" when the device has
/// none, null when the kernel's list does not say (older kernels; ask the device itself).
/// </param>
public sealed record DeviceListEntry(string Name, Interop.DeviceNumber Device, string? Uuid = null);
