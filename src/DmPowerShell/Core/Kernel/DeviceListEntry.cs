namespace DmPowerShell.Kernel;

/// <summary>A device as DM_DEVICE_LIST names it.</summary>
public sealed record DeviceListEntry(string Name, Interop.DeviceNumber Device);
