using DmPowerShell.Kernel;

namespace DmPowerShell.Storage;

/// <summary>Why a device cannot be removed: its open count, mounts in any namespace, holders.</summary>
public static class DeviceBusy
{
    public static DmPowerShellException Explain(IDeviceMapper dm, string deviceName, Exception inner)
    {
        var info = dm.GetInfo(deviceName);
        var reasons = new List<string>();
        if (info is not null)
        {
            reasons.Add($"open count {info.OpenCount}");
            reasons.AddRange(DeviceUsage.Mounts(info.Device).Select(m => $"mounted at {m}"));
            reasons.AddRange(DeviceUsage.Holders(info.Device).Select(h => $"held by {h}"));
        }
        return new DmPowerShellException(ErrorIds.DeviceInUse, ErrorKind.ResourceBusy,
            $"/dev/mapper/{deviceName} is busy: {string.Join("; ", reasons)}. Unmount it or stop what holds it, then try again.", deviceName, inner);
    }
}
