using System.Runtime.InteropServices;
using DmPowerShell.Interop;

namespace DmPowerShell.Kernel;

/// <summary>The result of DM_LIST_DEVICES, as the kernel writes it, read into entries.</summary>
internal static class DeviceNameList
{
    /// <summary>The chain of struct dm_names { uint64_t dev; uint32_t next; char name[]; } a list returns.</summary>
    public static List<DeviceListEntry> Read(IntPtr names)
    {
        var result = new List<DeviceListEntry>();
        if (names == IntPtr.Zero || Marshal.ReadInt64(names) == 0)
        {
            return result;
        }
        var current = names;
        while (true)
        {
            var dev = (ulong)Marshal.ReadInt64(current);
            var next = (uint)Marshal.ReadInt32(current, 8);
            var name = Marshal.PtrToStringUTF8(current + 12) ?? "";
            result.Add(new DeviceListEntry(name, DeviceNumber.FromDevT(dev), ListedUuid(current, next, name)));
            if (next == 0)
            {
                return result;
            }
            current += (int)next;
        }
    }

    private const uint NameListHasUuid = 1, NameListHasNoUuid = 2;

    /// <summary>
    /// Since dm ioctl 4.45 the kernel puts, after each name and aligned to 8 bytes, the event
    /// number, a flags word and the uuid when the flags say there is one: one list then answers
    /// which devices are whose, where older kernels need an ioctl per device. Null when the
    /// entry carries no flags (an older kernel), or they would lie past the entry.
    /// </summary>
    private static string? ListedUuid(IntPtr entry, uint next, string name)
    {
        var afterName = entry + 12 + System.Text.Encoding.UTF8.GetByteCount(name) + 1;
        var aligned = (IntPtr)(((long)afterName + 7) & ~7L);
        if (next != 0 && (long)aligned + 8 > (long)entry + next)
        {
            return null;
        }
        return (uint)Marshal.ReadInt32(aligned, 4) switch
        {
            NameListHasUuid => Marshal.PtrToStringUTF8(aligned + 8) ?? "",
            NameListHasNoUuid => "",
            _ => null,
        };
    }
}
