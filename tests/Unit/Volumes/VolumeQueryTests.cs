using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Tests.Unit.Transactions;
using DmPowerShell.Volumes;

namespace DmPowerShell.Tests.Unit.Volumes;

/// <summary>Queries by exact name read the name index, not every record (against the recording fake).</summary>
[Collection(nameof(DurableFileSyncs))]
public sealed class VolumeQueryTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("dmps-query-").FullName;
    private readonly VolumeService volumes;

    public VolumeQueryTests()
    {
        var registry = new PoolRegistry(Path.Combine(root, "state"));
        registry.EnsureWritableRoot();
        var pool = new PoolRecord
        {
            Name = "web", Id = Guid.NewGuid().ToString("N"), State = RecordState.Ready, Backing = PoolBacking.Direct,
            DataPath = "/dev/fake-data", MetadataPath = "/dev/fake-metadata", DataSize = 1L << 30, MetadataSize = 16L << 20, BlockSize = 65536,
        };
        registry.SavePool(pool);
        var dm = new RecordingDeviceMapper(pool.DeviceName, pool.Uuid);
        dm.SetTable(pool.DeviceName, pool.TableFor(new DeviceNumber(7, 1), new DeviceNumber(7, 0)).ToTarget((ulong)pool.DataSize / 512));
        volumes = new VolumeService(new PoolService(registry, dm));
        foreach (var name in new[] { "a", "b", "c" }) volumes.Create("web", name, 1L << 20, null, activate: true, SilentHost.Instance);
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void Exact_names_find_their_volumes_in_id_order_once_each()
    {
        var found = volumes.GetExact("web", new[] { "c", "a", "c" })!;
        Assert.Equal(new[] { "a", "c" }, found.Select(v => v.Name));
        Assert.True(found.All(v => v.Active));
    }

    [Fact]
    public void A_name_without_an_exact_match_leaves_the_query_to_the_listing()
    {
        // The listing matches as PowerShell does (ignoring case); the index is exact.
        Assert.Null(volumes.GetExact("web", new[] { "A" }));
        Assert.Null(volumes.GetExact("web", new[] { "a", "nope" }));
        Assert.Equal("a", Assert.Single(volumes.List("web", n => string.Equals(n, "A", StringComparison.OrdinalIgnoreCase))).Name);
    }
}
