using DmPowerShell.Interop;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Volumes;

namespace DmPowerShell.Tests.Unit.Transactions;

/// <summary>
/// One of the module's pools over the recording fake, with a real registry in a temporary
/// folder: the setup that host tests of the services share. Direct-backed (block devices), so
/// that nothing touches a loop device or file of the host.
/// </summary>
internal sealed class FakePool : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("dmps-fake-").FullName;

    public FakePool()
    {
        Registry = new PoolRegistry(Path.Combine(root, "state"));
        Registry.EnsureWritableRoot();
        Pool = new PoolRecord
        {
            Name = "web", Id = Guid.NewGuid().ToString("N"), State = RecordState.Ready, Backing = PoolBacking.Direct,
            DataPath = "/dev/fake-data", MetadataPath = "/dev/fake-metadata", DataSize = 1L << 30, MetadataSize = 16L << 20, BlockSize = 65536,
        };
        Registry.SavePool(Pool);
        Dm = new RecordingDeviceMapper(Pool.DeviceName, Pool.Uuid);
        Dm.SetTable(Pool.DeviceName, Pool.TableFor(new DeviceNumber(7, 1), new DeviceNumber(7, 0)).ToTarget((ulong)Pool.DataSize / 512));
        Pools = new PoolService(Registry, Dm);
        Volumes = new VolumeService(Pools);
    }

    /// <summary>The temporary folder that holds the state root.</summary>
    public string Root => root;

    public PoolRegistry Registry { get; }
    public PoolRecord Pool { get; }
    public RecordingDeviceMapper Dm { get; }
    public PoolService Pools { get; }
    public VolumeService Volumes { get; }

    public void Dispose() => Directory.Delete(root, recursive: true);
}
