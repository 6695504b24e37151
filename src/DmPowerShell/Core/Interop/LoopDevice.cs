namespace DmPowerShell.Interop;

/// <summary>A loop device bound to a backing file.</summary>
public sealed record LoopDevice(string Path, int Number, DeviceNumber Device, string BackingFile);
