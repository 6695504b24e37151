namespace DmPowerShell.Kernel;

/// <summary>What DM_DEVICE_INFO tells about a device.</summary>
public sealed record DeviceInfo(
    string Name,
    string? Uuid,
    bool Suspended,
    bool LiveTable,
    bool InactiveTable,
    int OpenCount,
    uint EventNumber,
    uint Major,
    uint Minor,
    bool ReadOnly,
    int TargetCount,
    bool DeferredRemove)
{
    public string DevicePath => $"/dev/mapper/{Name}";
    public Interop.DeviceNumber Device => new(Major, Minor);
}
