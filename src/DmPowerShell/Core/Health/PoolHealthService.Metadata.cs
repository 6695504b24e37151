using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Storage;
using DmPowerShell.Units;

namespace DmPowerShell.Health;

public sealed partial class PoolHealthService
{
    /// <summary>
    /// A pool whose record is lost but whose device is live (UUID DMPS-&lt;id&gt;-pool): its record
    /// is rebuilt from the table. LVM's pools are left to LVM.
    /// </summary>
    private PoolRecord? Rebuild(string name, IOperationHost host, List<PoolRepair> done)
    {
        var deviceName = Naming.PoolDeviceName(name);
        var info = dm.GetInfo(deviceName) ?? throw pools.NotFound(name);
        if (info.Uuid is { } lvm && lvm.StartsWith("LVM-", StringComparison.Ordinal))
        {
            throw new DmPowerShellException(ErrorIds.PoolNotOwned, ErrorKind.InvalidState,
                $"'{name}' is a thin pool that LVM manages; repair it with LVM: lvconvert --repair <vg>/<pool>.", name);
        }
        if (info.Uuid is not { } uuid || !uuid.StartsWith(Naming.UuidPrefix, StringComparison.Ordinal) || !uuid.EndsWith("-pool", StringComparison.Ordinal))
        {
            throw new DmPowerShellException(ErrorIds.PoolNotOwned, ErrorKind.InvalidState,
                $"'{name}' was not made by this module (uuid '{info.Uuid}'); it is left alone.", name);
        }
        var id = uuid[Naming.UuidPrefix.Length..^"-pool".Length];
        var target = dm.GetTable(deviceName).Single();
        var table = ThinPoolTable.Parse(target.Parameters);
        string Backing(DeviceNumber device, out bool loop)
        {
            var backing = $"/sys/dev/block/{device}/loop/backing_file";
            loop = File.Exists(backing);
            return loop ? File.ReadAllText(backing).Trim() : PoolService.BlockDeviceName(device);
        }
        var dataPath = Backing(table.DataDevice, out var dataIsLoop);
        var metadataPath = Backing(table.MetadataDevice, out _);
        var record = new PoolRecord
        {
            Name = name,
            Id = id,
            State = RecordState.Ready,
            Backing = Pools.Backings.PoolBackings.KindOf(dataOnLoop: dataIsLoop),
            DataPath = dataPath,
            MetadataPath = metadataPath,
            DataSize = Sectors.ToBytes(target.LengthSectors),
            MetadataSize = (long)BlockDevices.GetSize(PoolService.BlockDeviceName(table.MetadataDevice)),
            BlockSize = (long)table.BlockSizeBytes,
            LowWaterMarkBlocks = table.LowWaterMarkBlocks,
            SkipBlockZeroing = table.SkipBlockZeroing,
            DiscardMode = table.DiscardMode,
            NoSpacePolicy = table.NoSpacePolicy,
            Created = DateTimeOffset.UtcNow,
        };
        var plan = $"write {Path.Combine(pools.Registry.PoolFolder(name), "pool.json")}: pool '{name}' ({record.Backing}, data {dataPath}, metadata {metadataPath}, {ByteSize.Format(record.DataSize)}), from the table of {info.Name}";
        var ok = host.ShouldProcess($"pool '{name}'", "Rebuild record", plan);
        done.Add(new PoolRepair(name, ProblemKind.UnrecordedDevice, null, name, $"rebuild the record of pool '{name}' from its live table", ok));
        if (!ok) return null;
        pools.Registry.EnsureWritableRoot();
        using (pools.Registry.LockRegistry())
        {
            pools.Registry.SavePool(record);
        }
        // A summary left from before the loss would be trusted: counted again from what the repair records.
        DurableFile.Delete(new VolumeStore(pools.Registry, name).SummaryPath);
        return record;
    }

    /// <summary>LVM's way: repair into a spare, check the spare, swap, keep the original; the volumes come back as they were.</summary>
    private Plan RepairMetadataPlan(PoolRecord record, string? spareDevice, IOperationHost host)
    {
        var backing = pools.BackingOf(record);
        IReadOnlyList<string> wereActive = Array.Empty<string>();
        var plan = new Plan();
        plan.Add($"deactivate the thin volumes of pool '{record.Name}' and the pool", () =>
        {
            wereActive = ReadRepairMarker(record.Name)
                ?? new VolumeStore(pools.Registry, record.Name).List().Where(v => v.Active).Select(v => v.Name).ToList();
            DurableFile.Write(RepairMarker(record.Name), System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(wereActive));
            if (pools.IsActive(record))
            {
                pools.Disable(record.Name, deactivateVolumes: true, host);
            }
            FaultInjection.Begin("repair-metadata");
            FaultInjection.Step("pool-offline");
        });
        plan.Add(string.Join(Environment.NewLine, backing.DescribeMetadataReplacement(record, spareDevice, $"thin_repair -i {record.MetadataPath}", ".repaired", "damaged")), () =>
        {
            using (pools.Registry.LockPool(record.Name))
            using (var input = PoolMetadataSnapshot.OpenAtRest(record.MetadataPath))
            {
                backing.ReplaceMetadata(record, spareDevice, ".repaired", "damaged", host, output => ExternalTool.Run("thin_repair", new[] { "-i", input.Path, "-o", output }),
                    failed => failed.Program == "thin_check"
                    ? new DmPowerShellException(ErrorIds.MetadataUnreadable, ErrorKind.OperationFailed,
                        $"The repaired metadata of pool '{record.Name}' still fails thin_check: {failed.Error.Trim()}. The original is untouched.", record.Name)
                    : new DmPowerShellException(ErrorIds.MetadataUnreadable, ErrorKind.OperationFailed,
                        $"thin_repair could not repair the metadata of pool '{record.Name}' (exit {failed.ExitCode}): {failed.Error.Trim()}. The original is untouched.", record.Name));
            }
        });
        plan.Add($"activate pool '{record.Name}' and the volumes recorded as active", () => FinishRepair(pools.Require(record.Name), wereActive, host));
        return plan;
    }
}
