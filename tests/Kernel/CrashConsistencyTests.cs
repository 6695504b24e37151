using System.Diagnostics;
using System.Text.RegularExpressions;
using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Volumes;

namespace DmPowerShell.Tests.Kernel;

/// <summary>
/// A process killed (SIGKILL) at each step boundary of create, snapshot, remove and restore: the next
/// command leaves registry, live devices and the pool's own metadata (thin_dump) in agreement,
/// the origin resumed, and untouched volumes byte-identical.
/// </summary>
[Trait("Category", "Kernel")]
public sealed partial class CrashConsistencyTests
{
    private static readonly (string, string)[] AllKills =
    [
        ("create", "journal-written"), ("create", "thin-created"), ("create", "transaction-set"), ("create", "devices-created"), ("create", "records-written"),
        ("snapshot", "journal-written"), ("snapshot", "origin-suspended"), ("snapshot", "thin-created"),
        ("snapshot", "transaction-set"), ("snapshot", "origin-resumed"), ("snapshot", "devices-created"), ("snapshot", "records-written"),
        ("remove", "device-removed"), ("remove", "journal-written"), ("remove", "transaction-set"),
        ("remove", "thin-deleted"), ("remove", "records-written"),
        ("restore", "journal-written"), ("restore", "device-removed"), ("restore", "origin-suspended"), ("restore", "thin-created"),
        ("restore", "transaction-set"), ("restore", "origin-resumed"), ("restore", "devices-created"), ("restore", "records-written"),
    ];

    // CI's sample: each operation once, at the step that leaves the most to finish (a thin
    // message sent with no record; an origin left suspended); the Reliability task runs all.
    private static readonly (string, string)[] SampledKills =
    [
        ("create", "thin-created"), ("snapshot", "origin-suspended"), ("remove", "thin-deleted"), ("restore", "transaction-set"),
    ];

    public static TheoryData<string, string> Kills() => KernelLane.KillPoints(AllKills, SampledKills);

    [Theory]
    [MemberData(nameof(Kills))]
    public void A_kill_at_any_step_leaves_a_consistent_pool_after_the_next_command(string operation, string step)
    {
        KernelLane.RequireGuest();
        var root = Directory.CreateTempSubdirectory("dmps-crash-").FullName;
        var registry = new PoolRegistry(root);
        var pools = new PoolService(registry);
        var volumes = new VolumeService(pools);
        var host = new SilentHost();
        var pool = pools.Create(new PoolSpec { Name = "crash", DataSize = 256L << 20, MetadataSize = 8L << 20 }, host)!;
        try
        {
            var baseVolume = volumes.Create("crash", "base", 16L << 20, null, activate: true, host)!;
            var other = volumes.Create("crash", "other", 16L << 20, null, activate: true, host)!;
            var victim = volumes.Create("crash", "victim", 16L << 20, null, activate: true, host)!;
            KernelLane.WritePattern(baseVolume.DevicePath, 1);
            KernelLane.WritePattern(other.DevicePath, 2);
            string? markHash = null;
            if (operation == "restore")
            {
                // base goes back to 'mark' (pattern 1); what it holds now (pattern 3) must survive too.
                volumes.Snapshot("crash", "base", new[] { "mark" }, activate: true, readOnly: false, host);
                markHash = KernelLane.Hash("/dev/mapper/" + Naming.VolumeDeviceName("crash", "mark"));
                KernelLane.WritePattern(baseVolume.DevicePath, 3);
            }
            var baseHash = KernelLane.Hash(baseVolume.DevicePath);
            var otherHash = KernelLane.Hash(other.DevicePath);

            var arguments = operation switch
            {
                "create" => new[] { "create", "crash", "fresh", (16L << 20).ToString() },
                "snapshot" => new[] { "snapshot", "crash", "base", "snap" },
                "restore" => new[] { "revert", "crash", "base", "mark" },
                _ => new[] { "remove", "crash", "victim" },
            };
            var (exitCode, output) = RunDriver(root, $"{operation}:{step}", arguments);
            Assert.True(exitCode == 137, $"the driver should have been killed at {operation}:{step}, but exited {exitCode}: {output}");

            // The next command on the pool: it must finish or undo what the killed one left.
            volumes.Create("crash", "next", 8L << 20, null, activate: true, host);

            var poolRecord = registry.FindPool("crash")!;
            var store = new VolumeStore(registry, "crash");
            Assert.Null(store.ReadJournal());
            var recorded = store.List().Select(r => r.ThinId.Value).OrderBy(i => i).ToList();
            Assert.Equal(recorded, PoolMetadataIds(pool).OrderBy(i => i).ToList());
            var live = LiveVolumeIds(poolRecord);
            Assert.All(live, id => Assert.Contains(id, recorded));
            Assert.All(store.List().Where(r => r.Active), r => Assert.Contains(r.ThinId.Value, live));
            var names = store.List().Select(r => r.Name).ToHashSet();
            if (operation == "restore")
            {
                // A rollback after the device went leaves base recorded inactive: a user enables it.
                if (DeviceMapperClient.Shared.GetInfo(Naming.VolumeDeviceName("crash", "base")) is null) volumes.Enable("crash", "base", readOnly: false, host);
                var reverted = names.Contains("base.before-restore");
                Assert.Equal(reverted ? markHash : baseHash, KernelLane.Hash(baseVolume.DevicePath));
                Assert.Equal(reverted, recorded.Count == 6);
                if (reverted)
                {
                    volumes.Enable("crash", "base.before-restore", readOnly: false, host);
                    Assert.Equal(baseHash, KernelLane.Hash("/dev/mapper/" + Naming.VolumeDeviceName("crash", "base.before-restore")));
                }
            }
            else
            {
                Assert.Equal(baseHash, KernelLane.Hash(baseVolume.DevicePath));
            }
            Assert.False(DeviceMapperClient.Shared.GetInfo(Naming.VolumeDeviceName("crash", "base"))!.Suspended);
            Assert.Equal(otherHash, KernelLane.Hash(other.DevicePath));

            // Whatever the kill hit, the operation is now either wholly done or wholly undone.
            switch (operation)
            {
                case "create": Assert.Equal(names.Contains("fresh"), recorded.Count == 5); break;
                case "snapshot": Assert.Equal(names.Contains("snap"), recorded.Count == 5); break;
                case "remove": Assert.Equal(!names.Contains("victim"), recorded.Count == 3); break;
            }
        }
        finally
        {
            pools.Remove("crash", deactivateVolumes: true, deleteBackingFiles: false, host);
            var check = KernelLane.ThinCheck(pool.MetadataPath);
            Directory.Delete(root, recursive: true);
            Assert.True(check.ExitCode == 0, $"thin_check failed: {check.Output}");
        }
    }

    internal static (int ExitCode, string Output) RunDriver(string root, string fault, string[] arguments)
    {
        using var process = StartDriver(root, arguments, fault);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        // .NET reports a child killed by a signal as 128 + signal.
        return (process.ExitCode, stdout.Result + stderr);
    }

    private static Process StartDriver(string root, string[] arguments, string? fault)
    {
        // tests/Kernel's output sits beside the driver's: bin/<project>/<configuration>/.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Name;
        var driver = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "DmPowerShell.Tests.Driver", configuration, "DmPowerShell.Tests.Driver.dll"));
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(driver);
        start.ArgumentList.Add(root);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        if (fault is not null) start.Environment["DMPS_FAULT_STEP"] = fault;
        return Process.Start(start)!;
    }

    /// <summary>Runs the driver and SIGKILLs it after <paramref name="delay"/>, unless it finished first.</summary>
    internal static void RunDriverKilledAfter(string root, TimeSpan delay, string[] arguments)
    {
        using var process = StartDriver(root, arguments, fault: null);
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(delay))
        {
            process.Kill();
            process.WaitForExit();
        }
    }

    /// <summary>The thin ids in the pool's own metadata, read from a metadata snapshot of the live pool.</summary>
    private static IEnumerable<uint> PoolMetadataIds(ThinPool pool)
    {
        var client = DeviceMapperClient.Shared;
        client.SendMessage(pool.DeviceName, PoolMessage.ReserveMetadataSnapshot());
        try
        {
            var dump = KernelLane.Run("thin_dump", "-m", pool.MetadataDevice!);
            Assert.True(dump.ExitCode == 0, dump.Output);
            return DeviceId().Matches(dump.Output).Select(m => uint.Parse(m.Groups[1].Value)).ToList();
        }
        finally
        {
            client.SendMessage(pool.DeviceName, PoolMessage.ReleaseMetadataSnapshot());
        }
    }

    private static IReadOnlyList<uint> LiveVolumeIds(PoolRecord pool)
    {
        var prefix = $"{Naming.UuidPrefix}{pool.Id}-";
        var client = DeviceMapperClient.Shared;
        return client.List()
            .Select(d => client.GetInfo(d.Name)?.Uuid)
            .Where(u => u is not null && u.StartsWith(prefix) && !u.EndsWith("-pool"))
            .Select(u => uint.Parse(u![prefix.Length..]))
            .ToList();
    }

    [GeneratedRegex("<device dev_id=\"(\\d+)\"")]
    private static partial Regex DeviceId();
}
