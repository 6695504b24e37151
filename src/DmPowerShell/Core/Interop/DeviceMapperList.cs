using static Tmds.Linux.LibC;

namespace DmPowerShell.Interop;

/// <summary>
/// DM_LIST_DEVICES issued directly, asking for uuids (DM_UUID_FLAG): since dm ioctl 4.45 the
/// kernel then writes each device's uuid into the list, so one call tells whose devices they
/// are. libdevmapper 1.02.185 does not set the flag, and would need an ioctl per device. An
/// older kernel ignores the flag: its entries carry no flags word, and the caller reads none.
/// </summary>
public static unsafe class DeviceMapperList
{
    private const string ControlPath = "/dev/mapper/control";
    // linux/dm-ioctl.h: struct dm_ioctl is 312 bytes; DM_LIST_DEVICES is command 2.
    private const int DmIoctlSize = 312;
    private const uint DmListDevices = (3u << 30) | ((uint)DmIoctlSize << 16) | (0xfdu << 8) | 2;
    private const uint BufferFullFlag = 1u << 8;
    private const uint UuidFlag = 1u << 14;

    // The size the last list needed: a host with many devices is not asked again and again to fit.
    private static int lastSize = 16 * 1024;

    /// <summary>
    /// Runs the list and hands <paramref name="read"/> the first struct dm_names of the result
    /// while its buffer lives. Callers serialise it with their other device-mapper calls.
    /// </summary>
    public static T Run<T>(Func<IntPtr, T> read)
    {
        using var control = FileDescriptor.Open(ControlPath, O_RDWR | O_CLOEXEC);
        for (var size = Math.Max(lastSize, DmIoctlSize + 1024); ; size *= 2)
        {
            var buffer = new long[(size + 7) / 8]; // 8-byte aligned, as the kernel aligns inside it
            fixed (long* start = buffer)
            {
                var words = (uint*)start;
                words[0] = 4; // interface version 4.0.0: any 4.x kernel answers
                words[3] = (uint)size; // data_size
                words[4] = DmIoctlSize; // data_start
                words[7] = UuidFlag; // flags
                control.Ioctl(DmListDevices, start, "ioctl(DM_LIST_DEVICES)");
                if ((words[7] & BufferFullFlag) != 0)
                {
                    continue;
                }
                lastSize = size;
                return read((IntPtr)((byte*)start + words[4]));
            }
        }
    }
}
