using DmPowerShell.Pools;
using DmPowerShell.Volumes;
using Xunit;

namespace DmPowerShell.Tests.Unit.Pools;

public sealed class PoolTreeTests
{
    private static ThinPool Pool() => new()
    {
        Name = "web", Id = "p1", DeviceName = "web", DevicePath = "/dev/mapper/web", DataPath = "/var/lib/x/data", MetadataPath = "/var/lib/x/metadata",
        DataDevice = "/dev/loop0", MetadataDevice = "/dev/loop1", Active = true, Device = "253:0", DataSize = 100L << 30, MetadataSize = 2L << 30, StateRoot = "/s",
    };

    private static ThinVolume Volume(string name, uint id, uint? origin) => new()
    {
        Name = name, Pool = "web", ThinId = id, OriginId = origin, Size = 10L << 30, DeviceName = $"web-{name}", DevicePath = $"/dev/mapper/web-{name}", Uuid = "u", StateRoot = "/s",
    };

    [Fact]
    public void A_pool_draws_like_lsblk_with_snapshots_under_their_origins()
    {
        var rows = PoolTree.Build(Pool(), new[] { Volume("base", 1, null), Volume("layer1", 2, 1), Volume("ctr1", 3, 2), Volume("ctr2", 4, 2), Volume("other", 5, null) });
        Assert.Equal(new[]
        {
            "web",
            "├─data",
            "├─metadata",
            "├─base",
            "│ └─layer1",
            "│   ├─ctr1",
            "│   └─ctr2",
            "└─other",
        }, rows.Select(r => r.Tree));
        Assert.Equal(new[] { "thin-pool", "data", "metadata", "thin", "snapshot", "snapshot", "snapshot", "thin" }, rows.Select(r => r.Type));
        Assert.Equal(new[] { 0, 1, 1, 1, 2, 3, 3, 1 }, rows.Select(r => r.Depth));
        Assert.Equal("/dev/loop0 (/var/lib/x/data)", rows[1].Path);
    }

    [Fact]
    public void A_snapshot_whose_origin_was_removed_hangs_from_the_pool()
    {
        var rows = PoolTree.Build(Pool(), new[] { Volume("orphan", 7, 3) });
        Assert.Equal(new[] { "web", "├─data", "├─metadata", "└─orphan" }, rows.Select(r => r.Tree));
    }
}
