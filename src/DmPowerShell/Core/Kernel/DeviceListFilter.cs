using DmPowerShell.Interop;

namespace DmPowerShell.Kernel;

/// <summary>
/// Which entries of a device list are wanted, tested on the kernel's bytes before any string is
/// made: a host with 10,000 devices lists 1 MB, and decoding every name and uuid cost more than
/// the ioctl itself under the guest's emulation.
/// </summary>
/// <param name="Devices">Only these devices (a pool's holders); null for all.</param>
/// <param name="SkipUuidPrefix">Leave out devices whose listed uuid starts so (a pool's own volumes, counted elsewhere). A device the list gives no uuid for is kept.</param>
public sealed record DeviceListFilter(IReadOnlySet<DeviceNumber>? Devices, string? SkipUuidPrefix = null)
{
    public bool Keeps(DeviceNumber device) => Devices?.Contains(device) != false;

    public bool Keeps(string? uuid) => SkipUuidPrefix is null || uuid is null || !uuid.StartsWith(SkipUuidPrefix, StringComparison.Ordinal);
}
