using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Tests.Unit.Transactions;

namespace DmPowerShell.Tests.Unit.Pools;

/// <summary>
/// Pool changes are plans too: what -WhatIf shows is, line for line, what -Verbose reports as the
/// change runs, against the recording fake (the kernel's answers are the guest's to show). A pool
/// on block devices, so that no loop device or file of the host is touched.
/// </summary>
[Collection(nameof(DurableFileSyncs))]
public sealed class PoolPlanTests : IDisposable
{
    private readonly FakePool fake = new();
    private readonly PoolRegistry registry;
    private readonly PoolRecord pool;
    private readonly RecordingDeviceMapper dm;
    private readonly PoolService pools;

    private string root => fake.Root;

    public PoolPlanTests()
    {
        (registry, pool, dm, pools) = (fake.Registry, fake.Pool, fake.Dm, fake.Pools);
    }

    public void Dispose() => fake.Dispose();

    /// <summary>A thin device of the pool, as the kernel would list it.</summary>
    private void AddVolume(string name, uint thinId)
    {
        var device = Naming.VolumeDeviceName("web", name);
        dm.Add(device, Naming.VolumeUuid(pool.Id, thinId));
        var poolDevice = dm.GetInfo(pool.DeviceName)!.Device;
        dm.SetTable(device, new ThinTable(poolDevice.ToString(), new ThinId(thinId)).ToTarget(2048));
    }

    private static (List<string> Plan, List<string> Verbose) WhatIfThenRun(Action<IOperationHost> change)
    {
        var whatIf = new RecordingHost(allow: false);
        change(whatIf);
        var executed = new RecordingHost(allow: true);
        change(executed);
        return (Assert.Single(whatIf.Plans).Split(Environment.NewLine).ToList(), executed.Verbose);
    }

    [Fact]
    public void Set_ThinPool_reloads_the_table_it_showed_then_writes_the_record()
    {
        var (plan, verbose) = WhatIfThenRun(h => pools.SetPolicies("web", new PoolPolicyChange { NoSpacePolicy = NoSpacePolicy.Error }, h));

        Assert.Equal(plan, verbose);
        Assert.Equal(new[] { "load web", "suspend web", "resume web" }, dm.Calls);
        Assert.StartsWith("load table: 0 2097152 thin-pool 7:1 7:0 128 ", plan[0], StringComparison.Ordinal);
        Assert.Contains("error_if_no_space", plan[0], StringComparison.Ordinal);
        Assert.Contains("Queue -> Error", plan[^1], StringComparison.Ordinal);
        Assert.Equal(NoSpacePolicy.Error, registry.FindPool("web")!.NoSpacePolicy);
        Assert.Contains("error_if_no_space", dm.GetTable("web").Single().Parameters, StringComparison.Ordinal);
    }

    [Fact]
    public void Disable_ThinPool_removes_the_volumes_then_the_pool_as_shown()
    {
        AddVolume("a", 1);
        AddVolume("b", 2);

        var (plan, verbose) = WhatIfThenRun(h => pools.Disable("web", deactivateVolumes: true, h));

        Assert.Equal(plan, verbose);
        Assert.Equal(new[] { "remove device /dev/mapper/web-a", "remove device /dev/mapper/web-b", "remove device /dev/mapper/web", "keep the block devices as they are" }, plan);
        Assert.Equal(new[] { "remove web-a", "remove web-b", "remove web" }, dm.Calls);
    }

    [Fact]
    public void Disable_ThinPool_refuses_active_volumes_without_DeactivateVolumes_and_changes_nothing()
    {
        AddVolume("a", 1);

        var error = Assert.Throws<DmPowerShellException>(() => pools.Disable("web", deactivateVolumes: false, new RecordingHost(allow: true)));

        Assert.Equal(ErrorIds.VolumesActive, error.ErrorId);
        Assert.Empty(dm.Calls);
    }

    [Fact]
    public void Remove_ThinPool_forgets_the_pool_after_its_devices_and_never_touches_block_devices()
    {
        var (plan, verbose) = WhatIfThenRun(h => pools.Remove("web", deactivateVolumes: true, deleteBackingFiles: true, h));

        Assert.Equal(plan, verbose);
        Assert.Equal("remove device /dev/mapper/web", plan[0]);
        Assert.Equal("keep the block devices as they are", plan[1]);
        Assert.StartsWith("delete record ", plan[^1], StringComparison.Ordinal);
        Assert.Null(registry.FindPool("web"));
    }

    [Fact]
    public void New_ThinPool_WhatIf_on_loop_files_shows_every_step_with_placeholders_for_the_loops_and_writes_nothing()
    {
        var whatIf = new RecordingHost(allow: false);
        var before = Directory.GetFileSystemEntries(root, "*", SearchOption.AllDirectories).Order().ToList();

        Assert.Null(pools.Create(new PoolSpec { Name = "fresh", DataSize = 1L << 30, MetadataSize = 64L << 20 }, whatIf));

        var plan = Assert.Single(whatIf.Plans).Split(Environment.NewLine);
        var folder = registry.PoolFolder("fresh");
        Assert.Equal(8, plan.Length);
        Assert.StartsWith($"write record {folder}/pool.json", plan[0], StringComparison.Ordinal);
        Assert.Equal($"create sparse file {folder}/data (1 GiB, mode 0600)", plan[1]);
        Assert.Equal($"create sparse file {folder}/metadata (64 MiB, mode 0600)", plan[2]);
        Assert.Equal($"attach {folder}/data to /dev/loop<N> (auto-clear)", plan[3]);
        Assert.Equal($"attach {folder}/metadata to /dev/loop<M> (auto-clear)", plan[4]);
        Assert.StartsWith("create device /dev/mapper/fresh uuid DMPS-", plan[5], StringComparison.Ordinal);
        Assert.StartsWith("load table: 0 2097152 thin-pool <metadata loop major:minor> <data loop major:minor> 128 ", plan[6], StringComparison.Ordinal);
        Assert.Equal("mark the record ready", plan[7]);
        Assert.Empty(dm.Calls);
        Assert.Equal(before, Directory.GetFileSystemEntries(root, "*", SearchOption.AllDirectories).Order().ToList());
    }

    [Fact]
    public void Every_backing_mode_has_a_type_and_each_record_gets_its_own()
    {
        foreach (var kind in Enum.GetValues<PoolBacking>())
        {
            Assert.Equal(kind, pools.BackingOf(pool with { Backing = kind }).Kind);
        }
        Assert.Equal(PoolBacking.Lvm, DmPowerShell.Pools.Backings.PoolBackings.KindOf(new PoolSpec { Name = "x", VolumeGroup = "vg" }));
        Assert.Equal(PoolBacking.Direct, DmPowerShell.Pools.Backings.PoolBackings.KindOf(new PoolSpec { Name = "x", DataDevice = "/dev/sdb" }));
        Assert.Equal(PoolBacking.Loop, DmPowerShell.Pools.Backings.PoolBackings.KindOf(new PoolSpec { Name = "x" }));
    }
}
