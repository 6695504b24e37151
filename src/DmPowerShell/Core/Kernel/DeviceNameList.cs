using System.Runtime.InteropServices;
using System.Text;
using DmPowerShell.Interop;

namespace DmPowerShell.Kernel;

/// <summary>The result of DM_LIST_DEVICES, as the kernel writes it, read into entries.</summary>
internal static unsafe class DeviceNameList
{
    public static List<DeviceListEntry> Read(IntPtr names) => Read(names, null);

    /// <summary>The chain of struct dm_names { uint64_t dev; uint32_t next; char name[]; } a list returns; only the entries <paramref name="filter"/> keeps.</summary>
    public static List<DeviceListEntry> Read(IntPtr names, DeviceListFilter? filter)
    {
        var result = new List<DeviceListEntry>();
        if (names == IntPtr.Zero || Marshal.ReadInt64(names) == 0)
        {
            return result;
        }
        var skip = filter?.SkipUuidPrefix is { } prefix ? Encoding.UTF8.GetBytes(prefix) : null;
        var current = (byte*)names;
        while (true)
        {
            var dev = *(ulong*)current;
            var next = *(uint*)(current + 8);
            var device = DeviceNumber.FromDevT(dev);
            if (filter?.Keeps(device) != false)
            {
                var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(current + 12);
                var listed = TryListedUuid(current, next, name.Length, out var uuid);
                if (skip is null || !listed || !uuid.StartsWith(skip))
                {
                    result.Add(new DeviceListEntry(Encoding.UTF8.GetString(name), device, listed ? Encoding.UTF8.GetString(uuid) : null));
                }
            }
            if (next == 0)
            {
                return result;
            }
            current += next;
        }
    }

    private const uint NameListHasUuid = 1, NameListHasNoUuid = 2;

    /// <summary>
    /// Since dm ioctl 4.45 the kernel puts, after each name and aligned to 8 bytes, the event
    /// number, a flags word and the uuid when the flags say there is one: one list then answers
    /// which devices are whose, where older kernels need an ioctl per device. Null when the
    /// entry carries no flags (an older kernel), or they would lie past the entry: false.
    /// </summary>
    private static bool TryListedUuid(byte* entry, uint next, int nameLength, out ReadOnlySpan<byte> uuid)
    {
        uuid = default;
        var aligned = (byte*)(((long)(entry + 12 + nameLength + 1) + 7) & ~7L);
        if (next != 0 && aligned + 8 > entry + next)
        {
            return false;
        }
        switch (*(uint*)(aligned + 4))
        {
            case NameListHasUuid:
                uuid = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(aligned + 8);
                return true;
            case NameListHasNoUuid:
                return true;
            default:
                return false;
        }
    }
}
