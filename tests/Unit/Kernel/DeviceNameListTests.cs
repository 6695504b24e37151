using System.Runtime.InteropServices;
using System.Text;
using DmPowerShell.Kernel;

namespace DmPowerShell.Tests.Unit.Kernel;

/// <summary>DM_LIST_DEVICES' result as the kernel lays it out: names, then (dm ioctl 4.45) the event number, flags and uuid, each entry 8-byte aligned.</summary>
public sealed class DeviceNameListTests
{
    /// <summary>Lays out entries as linux/drivers/md/dm-ioctl.c's list_devices does; flags null: an older kernel's entry.</summary>
    private static byte[] Layout(params (string Name, ulong Dev, uint? Flags, string? Uuid)[] entries)
    {
        static int Align(int value) => (value + 7) & ~7;
        var buffer = new byte[4096];
        var offset = 0;
        for (var i = 0; i < entries.Length; i++)
        {
            var (name, dev, flags, uuid) = entries[i];
            var start = offset;
            BitConverter.GetBytes(dev).CopyTo(buffer, start);
            Encoding.UTF8.GetBytes(name).CopyTo(buffer, start + 12);
            var end = Align(start + 12 + name.Length + 1);
            if (flags is { } f)
            {
                BitConverter.GetBytes(7u).CopyTo(buffer, end); // event number
                BitConverter.GetBytes(f).CopyTo(buffer, end + 4);
                end += 8;
                if (uuid is not null)
                {
                    Encoding.UTF8.GetBytes(uuid).CopyTo(buffer, end);
                    end = Align(end + uuid.Length + 1);
                }
            }
            offset = end;
            var next = i == entries.Length - 1 ? 0u : (uint)(offset - start);
            BitConverter.GetBytes(next).CopyTo(buffer, start + 8);
        }
        return buffer;
    }

    private static List<DeviceListEntry> Read(byte[] buffer, DeviceListFilter? filter = null)
    {
        var handle = GCHandle.Alloc(buffer, GCHandleType.Pinned);
        try { return DeviceNameList.Read(handle.AddrOfPinnedObject(), filter); }
        finally { handle.Free(); }
    }

    [Fact]
    public void Uuids_are_read_when_the_kernel_gives_them_and_empty_for_a_device_without_one()
    {
        var entries = Read(Layout(("web", (254UL << 8) | 0, 1, "DMPS-abc-pool"), ("web-base", (254UL << 8) | 1, 1, "DMPS-abc-1"), ("plain", (254UL << 8) | 2, 2, null)));
        Assert.Equal(new[] { "web", "web-base", "plain" }, entries.Select(e => e.Name));
        Assert.Equal(new[] { "DMPS-abc-pool", "DMPS-abc-1", "" }, entries.Select(e => e.Uuid));
        Assert.Equal("254:1", entries[1].Device.ToString());
    }

    [Fact]
    public void An_older_kernels_entries_carry_no_uuid_to_read()
    {
        var entries = Read(Layout(("a-name-of-some-length", 254UL << 8, null, null), ("b", (254UL << 8) | 1, null, null)));
        Assert.Equal(new[] { "a-name-of-some-length", "b" }, entries.Select(e => e.Name));
        Assert.All(entries, e => Assert.Null(e.Uuid));
    }

    [Fact]
    public void A_filter_keeps_the_devices_asked_for_less_those_of_a_uuid_prefix_and_keeps_a_device_without_a_listed_uuid()
    {
        var layout = Layout(("web", (254UL << 8) | 0, 1, "DMPS-abc-pool"), ("web-base", (254UL << 8) | 1, 1, "DMPS-abc-1"),
            ("other", (254UL << 8) | 2, 1, "LVM-xyz"), ("plain", (254UL << 8) | 3, 2, null), ("far", (254UL << 8) | 4, 1, "DMPS-abc-2"));
        var held = new HashSet<DmPowerShell.Interop.DeviceNumber> { new(254, 1), new(254, 2), new(254, 3) };
        Assert.Equal(new[] { "other", "plain" }, Read(layout, new DeviceListFilter(held, "DMPS-abc-")).Select(e => e.Name));
        Assert.Equal(new[] { "web-base", "other", "plain" }, Read(layout, new DeviceListFilter(held)).Select(e => e.Name));
        var old = Layout(("web-base", (254UL << 8) | 1, null, null));
        Assert.Equal("web-base", Assert.Single(Read(old, new DeviceListFilter(null, "DMPS-abc-"))).Name);
    }

    [Fact]
    public void An_empty_list_is_empty()
    {
        Assert.Empty(Read(new byte[64]));
    }
}
