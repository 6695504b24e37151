using DmPowerShell.Health;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Tests.Unit.Transactions;
using DmPowerShell.Volumes;

namespace DmPowerShell.Tests.Unit.Volumes;

/// <summary>A pool handed to a container runtime: its thin ids are the runtime's (planning and inspection, against the recording fake).</summary>
[Collection(nameof(DurableFileSyncs))]
public sealed class HandoverTests : IDisposable
{
    private readonly FakePool fake = new();

    public void Dispose() => fake.Dispose();

    private void RuntimeDevice(string name, uint id)
    {
        var pool = fake.Dm.GetInfo("web")!.Device;
        fake.Dm.Create(name, null, new[] { new DmTarget(0, 2048, ThinTable.TargetType, $"{pool} {id}") });
    }

    [Theory]
    [InlineData("docker-253:0-1234-base", PoolRuntime.Docker)]
    [InlineData("docker-253:0-1234-6d1f0a", PoolRuntime.Docker)]
    [InlineData("web-snap-3", PoolRuntime.Containerd)]
    [InlineData("web-base", PoolRuntime.None)]
    [InlineData("other-snap-3", PoolRuntime.None)]
    public void A_runtime_device_is_known_by_its_name(string device, PoolRuntime runtime) =>
        Assert.Equal(runtime, RuntimeDevices.Of("web", device));

    [Fact]
    public void A_pool_recorded_as_handed_over_refuses_a_change_of_thin_ids_unless_forced_and_sends_nothing()
    {
        fake.Volumes.Create("web", "mine", 1L << 20, null, activate: false, SilentHost.Instance);
        fake.Registry.SavePool(fake.Registry.FindPool("web")! with { HandedTo = PoolRuntime.Docker });
        var before = fake.Dm.Calls.Count;

        var refused = Assert.Throws<DmPowerShellException>(() => fake.Volumes.Create("web", "more", 1L << 20, null, activate: false, SilentHost.Instance));
        Assert.Equal(ErrorIds.PoolHandedOver, refused.ErrorId);
        Assert.Contains("Set-ThinPool -HandedTo says so", refused.Message);
        Assert.Contains("-HandedTo None", refused.Message);
        Assert.DoesNotContain(fake.Dm.Calls.Skip(before), c => c.StartsWith("message", StringComparison.Ordinal));
        Assert.Null(new VolumeStore(fake.Registry, "web").ReadJournal());
        Assert.Throws<DmPowerShellException>(() => fake.Volumes.Remove("web", "mine", SilentHost.Instance));

        var forced = new VolumeService(fake.Pools) { OverrideHandover = true };
        Assert.NotNull(forced.Create("web", "more", 1L << 20, null, activate: false, SilentHost.Instance));
    }

    [Fact]
    public void Active_devices_of_a_runtime_on_the_pool_refuse_a_change_of_thin_ids_without_a_record()
    {
        RuntimeDevice("web-snap-1", 1);
        var refused = Assert.Throws<DmPowerShellException>(() => fake.Volumes.Create("web", "v", 1L << 20, null, activate: false, SilentHost.Instance));
        Assert.Equal(ErrorIds.PoolHandedOver, refused.ErrorId);
        Assert.Contains("Containerd's devices are active on it", refused.Message);
        Assert.Equal(PoolRuntime.Containerd, fake.Pools.RuntimeOf(fake.Registry.FindPool("web")!, fake.Dm.GetInfo("web")!.Device));
    }

    [Fact]
    public void Test_ThinPool_reports_the_runtimes_thin_ids_as_its_own_with_nothing_to_repair()
    {
        const string dump = """
            <superblock uuid="" time="1" transaction="6" version="2" data_block_size="128" nr_data_blocks="16384">
              <device dev_id="1" mapped_blocks="10" transaction="0" creation_time="0" snap_time="0"/>
              <device dev_id="2" mapped_blocks="4" transaction="1" creation_time="0" snap_time="0"/>
            </superblock>
            """;
        var views = new PoolViews
        {
            Pool = fake.Pool with { HandedTo = PoolRuntime.Docker }, Active = true,
            Status = ThinPoolStatus.Parse("6 100/1000 200/16384 - rw discard_passdown queue_if_no_space - 1024"),
            Records = Array.Empty<VolumeRecord>(),
            LiveDevices = new[] { new LiveThinDevice("docker-253:0-99-abc", null, 2, "docker-253:0-99-abc", 2048) },
            Metadata = PoolMetadata.ParseXml(dump),
        };
        var problems = PoolInspection.Compare(views);
        Assert.Equal(2, problems.Count);
        Assert.All(problems, p => { Assert.Equal(ProblemKind.RuntimeThinId, p.Kind); Assert.False(p.Repairable); });
        Assert.Contains("Docker's", problems[0].Description);

        // Not recorded, but a containerd device is active: the same verdict; with neither, the ids are unrecorded and adoptable.
        var detected = views with { Pool = fake.Pool, LiveDevices = new[] { new LiveThinDevice("web-snap-2", null, 2, "snap-2", 2048) } };
        Assert.All(PoolInspection.Compare(detected), p => Assert.Equal(ProblemKind.RuntimeThinId, p.Kind));
        var unknown = views with { Pool = fake.Pool, LiveDevices = Array.Empty<LiveThinDevice>() };
        Assert.All(PoolInspection.Compare(unknown), p => { Assert.Equal(ProblemKind.UnrecordedThinId, p.Kind); Assert.Contains("-HandedTo", p.Description); });
    }

    [Fact]
    public void Set_ThinPool_records_the_handover_and_says_so()
    {
        var record = fake.Registry.FindPool("web")!;
        var handed = PoolPolicies.Apply(record, new PoolPolicyChange { HandedTo = PoolRuntime.Containerd });
        Assert.Equal(PoolRuntime.Containerd, handed.HandedTo);
        Assert.Equal("handed to: None -> Containerd", PoolPolicies.Describe(record, handed));
        Assert.Equal(PoolRuntime.Containerd, PoolPolicies.Apply(handed, new PoolPolicyChange { NoSpacePolicy = NoSpacePolicy.Error }).HandedTo);
    }
}
