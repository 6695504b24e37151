using DmPowerShell.Health;
using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Volumes;

namespace DmPowerShell.Tests.Kernel;

/// <summary>
/// A process killed (SIGKILL) at each step boundary of the pool operations (create, enable,
/// disable, resize, remove) and of a volume resize: the next command completes the work, and
/// afterwards Test-ThinPool finds registry, live devices and metadata in agreement, no loop or dm
/// device is left over, and untouched volumes are byte-identical.
/// </summary>
[Trait("Category", "Kernel")]
public sealed class PoolCrashTests
{
    private static readonly (string, string)[] AllKills =
    [
        ("pool-create", "record-written"), ("pool-create", "files-created"), ("pool-create", "loops-attached"),
        ("pool-create", "device-created"), ("pool-create", "record-ready"),
        ("pool-enable", "loops-attached"), ("pool-enable", "device-created"),
        ("pool-disable", "volumes-removed"), ("pool-disable", "device-removed"),
        ("pool-resize", "data-grown"), ("pool-resize", "metadata-grown"), ("pool-resize", "table-loaded"),
        ("pool-resize", "suspended"), ("pool-resize", "resumed"), ("pool-resize", "record-written"),
        ("pool-remove", "volumes-removed"), ("pool-remove", "device-removed"), ("pool-remove", "deactivated"), ("pool-remove", "record-deleted"),
        ("resize", "table-loaded"), ("resize", "suspended"), ("resize", "resumed"), ("resize", "record-written"),
        ("export", "snapshot-reserved"), ("export", "metadata-written"),
        ("repair-metadata", "pool-offline"), ("repair-metadata", "spare-written"), ("repair-metadata", "swapped"),
        ("restore", "spare-written"), ("restore", "swapped"), ("restore", "records-replaced"),
    ];

    // CI's sample: one kill in each kind of state a step can leave (loops attached with no device,
    // a suspended pool table, a record deleted before the files, a spare written but not swapped,
    // a swap before the records); the Reliability task runs all of them (CI time: README).
    private static readonly (string, string)[] SampledKills =
    [
        ("pool-create", "loops-attached"), ("pool-resize", "suspended"), ("pool-remove", "record-deleted"),
        ("repair-metadata", "spare-written"), ("restore", "swapped"),
    ];

    public static TheoryData<string, string> Kills() => KernelLane.KillPoints(AllKills, SampledKills);

    private const long MiB = 1L << 20;

    [Theory]
    [MemberData(nameof(Kills))]
    public void A_kill_at_any_step_of_a_pool_operation_is_completed_by_the_next_command(string operation, string step)
    {
        KernelLane.RequireGuest();
        var root = Directory.CreateTempSubdirectory("dmps-poolcrash-").FullName;
        var registry = new PoolRegistry(root);
        var pools = new PoolService(registry);
        var volumes = new VolumeService(pools);
        var host = new SilentHost();
        var crash = pools.Create(new PoolSpec { Name = "pcrash", DataSize = 256 * MiB, MetadataSize = 8 * MiB }, host)!;
        var victim = pools.Create(new PoolSpec { Name = "pvictim", DataSize = 64 * MiB, MetadataSize = 4 * MiB }, host)!;
        try
        {
            var baseVolume = volumes.Create("pcrash", "base", 16 * MiB, null, activate: true, host)!;
            var other = volumes.Create("pcrash", "other", 16 * MiB, null, activate: true, host)!;
            volumes.Create("pvictim", "v", 8 * MiB, null, activate: true, host);
            KernelLane.WritePattern(baseVolume.DevicePath, 1);
            KernelLane.WritePattern(other.DevicePath, 2);
            var baseHash = KernelLane.Hash(baseVolume.DevicePath);
            var otherHash = KernelLane.Hash(other.DevicePath);
            var backup = Path.Combine(root, "backup");
            switch (operation)
            {
                case "pool-enable":
                    pools.Disable("pcrash", deactivateVolumes: true, host);
                    break;
                case "repair-metadata":
                    // The kernel's own verdict, persisted: the pool comes back read-only with needs_check.
                    pools.Disable("pcrash", deactivateVolumes: true, host);
                    KernelLane.SetNeedsCheck(crash.MetadataPath);
                    pools.Enable("pcrash", host);
                    Assert.Contains(new PoolHealthService(pools).Test("pcrash"), p => p.Kind == ProblemKind.NeedsCheck);
                    break;
                case "restore":
                    new PoolBackupService(pools).Export("pcrash", backup, host);
                    pools.Disable("pcrash", deactivateVolumes: true, host);
                    break;
            }

            var arguments = operation switch
            {
                "pool-create" => new[] { "pool-create", "fresh", (128 * MiB).ToString(), (4 * MiB).ToString() },
                "pool-enable" => new[] { "pool-enable", "pcrash" },
                "pool-disable" => new[] { "pool-disable", "pcrash" },
                "pool-resize" => new[] { "pool-resize", "pcrash", (512 * MiB).ToString(), (16 * MiB).ToString() },
                "pool-remove" => new[] { "pool-remove", "pvictim" },
                "export" => new[] { "export", "pcrash", backup },
                "repair-metadata" => new[] { "repair", "pcrash" },
                "restore" => new[] { "restore", "pcrash", backup },
                _ => new[] { "resize", "pcrash", "base", (32 * MiB).ToString() },
            };
            var (exitCode, output) = CrashConsistencyTests.RunDriver(root, $"{operation}:{step}", arguments);
            Assert.True(exitCode == 137, $"the driver should have been killed at {operation}:{step}, but exited {exitCode}: {output}");

            // The next command: the same one again, which must finish what the killed one left.
            switch (operation)
            {
                case "pool-create":
                    // Killed after the record said Ready, the creation was complete: the name is taken now.
                    if (registry.FindPool("fresh") is not { State: RecordState.Ready })
                    {
                        pools.Create(new PoolSpec { Name = "fresh", DataSize = 128 * MiB, MetadataSize = 4 * MiB }, host);
                    }
                    Assert.True(volumes.Create("fresh", "works", 8 * MiB, null, activate: true, host)!.Active);
                    break;
                case "pool-enable":
                    pools.Enable("pcrash", host);
                    break;
                case "pool-disable":
                    pools.Disable("pcrash", deactivateVolumes: true, host);
                    pools.Enable("pcrash", host);
                    break;
                case "pool-resize":
                    pools.Resize("pcrash", 512 * MiB, 16 * MiB, host);
                    var table = DeviceMapperClient.Shared.GetTable("pcrash").Single();
                    Assert.Equal((ulong)(512 * MiB / 512), table.LengthSectors);
                    var status = ThinPoolStatus.Parse(DeviceMapperClient.Shared.GetStatus("pcrash").Single().Parameters);
                    Assert.Equal((ulong)(16 * MiB / 4096), status.TotalMetadataBlocks);
                    Assert.Equal((ulong)(512 * MiB / 65536), status.TotalDataBlocks);
                    var record = registry.FindPool("pcrash")!;
                    Assert.Equal(512 * MiB, record.DataSize);
                    Assert.Equal(16 * MiB, record.MetadataSize);
                    break;
                case "pool-remove":
                    if (registry.FindPool("pvictim") is not null) pools.Remove("pvictim", deactivateVolumes: true, deleteBackingFiles: false, host);
                    Assert.Null(registry.FindPool("pvictim"));
                    Assert.Null(DeviceMapperClient.Shared.GetInfo("pvictim"));
                    Assert.Null(DeviceMapperClient.Shared.GetInfo("pvictim-v"));
                    Assert.True(File.Exists(victim.DataPath) && File.Exists(victim.MetadataPath), "the files are kept");
                    break;
                case "export":
                    Assert.Equal(2, new PoolBackupService(pools).Export("pcrash", backup, host)!.Volumes);
                    Assert.Null(ThinPoolStatus.Parse(DeviceMapperClient.Shared.GetStatus("pcrash").Single().Parameters).HeldMetadataRoot);
                    break;
                case "repair-metadata":
                    new PoolHealthService(pools).Repair("pcrash", deleteUnrecorded: false, host);
                    Assert.False(ThinPoolStatus.Parse(DeviceMapperClient.Shared.GetStatus("pcrash").Single().Parameters).NeedsCheck ?? false);
                    break;
                case "restore":
                    new PoolBackupService(pools).Restore("pcrash", backup, host);
                    pools.Enable("pcrash", host);
                    break;
                default:
                    volumes.Resize("pcrash", "base", 32 * MiB, growFileSystem: false, host);
                    Assert.Equal((ulong)(32 * MiB / 512), DeviceMapperClient.Shared.GetTable("pcrash-base").Single().LengthSectors);
                    Assert.Equal(32 * MiB, volumes.Get("pcrash", "base").Size);
                    break;
            }

            var health = new PoolHealthService(pools);
            foreach (var pool in registry.ListPools())
            {
                Assert.DoesNotContain(health.Test(pool.Name), p => p.Kind != ProblemKind.Inactive);
                Assert.False(DeviceMapperClient.Shared.GetInfo(pool.DeviceName) is { Suspended: true }, $"pool {pool.Name} is left suspended");
            }
            // Volumes an operation took offline come back with one command; their data is intact.
            foreach (var name in new[] { "base", "other" })
            {
                if (!volumes.Get("pcrash", name).Active) volumes.Enable("pcrash", name, readOnly: false, host);
            }
            Assert.False(DeviceMapperClient.Shared.GetInfo("pcrash-base")!.Suspended);
            Assert.Equal(baseHash, KernelLane.Hash(baseVolume.DevicePath));
            Assert.Equal(otherHash, KernelLane.Hash(other.DevicePath));
            // Loops on this root's files: two for each active pool, none else.
            var loops = LoopDevices.List().Where(l => l.BackingFile.StartsWith(root, StringComparison.Ordinal)).ToList();
            var active = registry.ListPools().Count(p => pools.Get(p.Name).Active);
            Assert.True(loops.Count == 2 * active, $"{loops.Count} loop devices for {active} active pools: {string.Join(", ", loops.Select(l => $"{l.Path}={l.BackingFile}"))}");
        }
        finally
        {
            var problems = new List<string>();
            foreach (var pool in registry.ListPools(includeUnfinished: true))
            {
                if (pool.State == RecordState.Ready) pools.Remove(pool.Name, deactivateVolumes: true, deleteBackingFiles: false, host);
            }
            foreach (var metadata in Directory.GetFiles(root, "metadata", SearchOption.AllDirectories))
            {
                var check = KernelLane.ThinCheck(metadata);
                if (check.ExitCode != 0) problems.Add($"thin_check {metadata}: {check.Output}");
            }
            Directory.Delete(root, recursive: true);
            Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
        }
    }

    /// <summary>
    /// SIGKILLs at random moments (not at step boundaries) during snapshots and removals, in a
    /// loop: after each, the next command and Test-ThinPool find everything in agreement.
    /// DMPS_RANDOM_KILLS sets the number of rounds (the Reliability task runs more).
    /// </summary>
    [Fact]
    public void Random_kills_during_snapshots_and_removals_leave_the_pool_consistent()
    {
        KernelLane.RequireGuest();
        var rounds = int.TryParse(Environment.GetEnvironmentVariable("DMPS_RANDOM_KILLS"), out var n) ? n : 6;
        var root = Directory.CreateTempSubdirectory("dmps-randomkill-").FullName;
        var registry = new PoolRegistry(root);
        var pools = new PoolService(registry);
        var volumes = new VolumeService(pools);
        var host = new SilentHost();
        var pool = pools.Create(new PoolSpec { Name = "rk", DataSize = 256 * MiB, MetadataSize = 8 * MiB }, host)!;
        var random = new Random(7);
        try
        {
            var origin = volumes.Create("rk", "origin", 16 * MiB, null, activate: true, host)!;
            KernelLane.WritePattern(origin.DevicePath, 3);
            var originHash = KernelLane.Hash(origin.DevicePath);
            for (var round = 0; round < rounds; round++)
            {
                var existing = volumes.List("rk").Where(v => v.Name != "origin").Select(v => v.Name).ToList();
                var arguments = existing.Count > 0 && random.Next(2) == 0
                    ? new[] { "remove", "rk", existing[random.Next(existing.Count)] }
                    : new[] { "snapshot", "rk", "origin", $"s{round}a", $"s{round}b" };
                var delay = TimeSpan.FromMilliseconds(random.Next(300, 2500));
                CrashConsistencyTests.RunDriverKilledAfter(root, delay, arguments);
                // The next command on the pool completes or undoes whatever the kill interrupted.
                volumes.Recover("rk", host);
                Assert.DoesNotContain(new PoolHealthService(pools).Test("rk"), p => p.Kind != ProblemKind.Inactive);
                Assert.False(DeviceMapperClient.Shared.GetInfo("rk-origin")!.Suspended);
                Assert.Equal(originHash, KernelLane.Hash(origin.DevicePath));
            }
        }
        finally
        {
            pools.Remove("rk", deactivateVolumes: true, deleteBackingFiles: false, host);
            var check = KernelLane.ThinCheck(pool.MetadataPath);
            Directory.Delete(root, recursive: true);
            Assert.True(check.ExitCode == 0, $"thin_check failed: {check.Output}");
        }
    }
}
