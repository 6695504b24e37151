using System.Text.Json;
using DmPowerShell.Interop;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Storage;
using DmPowerShell.Units;

namespace DmPowerShell.Health;

/// <summary>
/// Export-ThinPool and Restore-ThinPool: the pool's metadata as thin_dump XML (through a released
/// metadata snapshot when the pool runs) with its registry; restored with thin_restore into a new
/// metadata file, the previous one kept beside it, the way LVM restores from its backups.
/// </summary>
public sealed class PoolBackupService
{
    private readonly PoolService pools;
    private readonly IDeviceMapper dm;

    public PoolBackupService(PoolService pools, IDeviceMapper? client = null)
    {
        this.pools = pools;
        dm = client ?? pools.DeviceMapper;
    }

    /// <summary>The pool's data blocks: its data device's size (or its record's, the smaller), in its blocks.</summary>
    private static ulong DataBlocksOf(PoolRecord record)
    {
        var dataBytes = BlockDevices.IsBlockDevice(record.DataPath) ? (long)BlockDevices.GetSize(record.DataPath)
            : File.Exists(record.DataPath) ? new FileInfo(record.DataPath).Length : record.DataSize;
        return (ulong)(Math.Min(dataBytes, record.DataSize) / record.BlockSize);
    }

    public static string MetadataFileIn(string folder, string pool) => Path.Combine(folder, $"{pool}.metadata.xml");

    public static string RegistryFileIn(string folder, string pool) => Path.Combine(folder, $"{pool}.registry.json");

    public PoolBackup? Export(string name, string folder, IOperationHost host)
    {
        var record = pools.Require(name);
        pools.RequireOwnTable(record, "LVM backs up its own records (vgcfgbackup); thin_dump its _tmeta for the metadata.");
        var metadataFile = MetadataFileIn(folder, name);
        var registryFile = RegistryFileIn(folder, name);
        var active = pools.IsActive(record);
        var store = new VolumeStore(pools.Registry, name);
        string xml = "";
        PoolMetadata? metadata = null;
        RegistryExport? export = null;
        var plan = new Plan();
        plan.Add("", () => DurableFile.CreateFolder(folder));
        plan.Add(active ? $"message {record.DevicePath} 0 reserve_metadata_snap; thin_dump --metadata-snap <metadata device>; message {record.DevicePath} 0 release_metadata_snap"
                        : $"thin_dump {record.MetadataPath} (through a read-only loop device)", () =>
        {
            if (active)
            {
                xml = new PoolHealthService(pools, dm).WithMetadataSnapshot(record, host, device => PoolMetadataSnapshot.ThinDump(device, metadataSnapshot: true));
            }
            else
            {
                using var device = PoolMetadataSnapshot.OpenAtRest(record.MetadataPath);
                xml = PoolMetadataSnapshot.ThinDump(device.Path, metadataSnapshot: false);
            }
            metadata = PoolMetadata.ParseXml(xml);
            // The export carries the pool's geometry, so that any thin_restore (0.9 or 1.x) takes it as it is.
            if (metadata.DataBlocks == 0) xml = PoolMetadata.WithDataBlocks(xml, DataBlocksOf(record));
        });
        plan.Add($"write {metadataFile}", () =>
        {
            DurableFile.Write(metadataFile, System.Text.Encoding.UTF8.GetBytes(xml));
            FaultInjection.Step("metadata-written");
        });
        plan.Add($"write {registryFile} (the pool's record, its volumes' records and the id counter), mode 0600", () =>
        {
            export = new RegistryExport
            {
                Pool = record,
                Volumes = store.List(),
                NextId = store.NextId,
                TransactionId = metadata!.Transaction,
                Created = DateTimeOffset.UtcNow,
            };
            DurableFile.Write(registryFile, JsonSerializer.SerializeToUtf8Bytes(export, PoolRegistry.Json));
        });
        if (!host.ShouldProcess($"pool '{name}'", "Export", plan.Render()))
        {
            return null;
        }
        FaultInjection.Begin("export");
        using (pools.Registry.LockPool(name))
        {
            plan.Run(host);
        }
        return new PoolBackup
        {
            Pool = name, MetadataFile = metadataFile, RegistryFile = registryFile,
            TransactionId = export!.TransactionId, Volumes = export.Volumes.Count, Created = export.Created,
        };
    }

    /// <summary>
    /// Restores an inactive loop-backed pool's metadata and registry from an export. Data written
    /// since the export is lost to the restored metadata: this is for metadata that is gone or damaged.
    /// </summary>
    public PoolBackup? Restore(string name, string folder, IOperationHost host, string? spareDevice = null, bool force = false)
    {
        if (pools.Registry.FindPool(name) is { } existing)
        {
            pools.RequireOwnTable(existing, "LVM restores its own pools: vgcfgrestore, lvconvert --repair.");
        }
        var registryFile = RegistryFileIn(folder, name);
        var metadataFile = MetadataFileIn(folder, name);
        foreach (var file in new[] { registryFile, metadataFile })
        {
            if (!File.Exists(file))
            {
                throw new DmPowerShellException(ErrorIds.BackupNotFound, ErrorKind.NotFound, $"{file} is missing: Export-ThinPool '{name}' -Path '{folder}' writes it.", file);
            }
        }
        var export = JsonSerializer.Deserialize<RegistryExport>(File.ReadAllBytes(registryFile), PoolRegistry.Json)
            ?? throw new DmPowerShellException(ErrorIds.RecordCorrupt, ErrorKind.InvalidState, $"{registryFile} is empty.", registryFile);
        var record = pools.Registry.FindPool(name) ?? export.Pool;
        pools.BackingOf(record).CheckSpare(record, spareDevice, force);
        if (pools.IsActive(record))
        {
            throw new DmPowerShellException(ErrorIds.PoolActive, ErrorKind.InvalidState, $"Pool '{name}' is active; Disable-ThinPool '{name}' -DeactivateVolumes first, then restore.", name);
        }
        var backing = pools.BackingOf(record);
        var plan = new Plan();
        const string RecordPhase = "record";
        plan.Add(RecordPhase, pools.Registry.FindPool(name) is null ? $"write the record of pool '{name}' from {registryFile}" : "", () =>
        {
            pools.Registry.EnsureWritableRoot();
            using (pools.Registry.LockRegistry())
            {
                if (pools.Registry.FindPool(name) is null) pools.Registry.SavePool(record with { State = RecordState.Ready });
            }
        });
        plan.Add(string.Join(Environment.NewLine, backing.DescribeMetadataReplacement(record, spareDevice, $"thin_restore -i {metadataFile}", ".restoring", "before-restore")), () =>
        {
            // An export of an earlier version may say nr_data_blocks="0" (thin_dump of a metadata snapshot):
            // thin_restore 1.x needs the pool's geometry in the file itself (PoolMetadata.WithDataBlocks),
            // so such an export is restored from a corrected copy; the overrides are what 0.9 reads.
            var blocks = DataBlocksOf(record);
            var xml = File.ReadAllText(metadataFile);
            var patched = PoolMetadata.WithDataBlocks(xml, blocks);   // the same string when the export has its geometry
            var corrected = ReferenceEquals(patched, xml) ? null : Path.Combine(Path.GetTempPath(), $"dmps-restore-{Guid.NewGuid():N}.xml");
            if (corrected is not null) File.WriteAllText(corrected, patched);
            try
            {
                backing.ReplaceMetadata(record, spareDevice, ".restoring", "before-restore", host, output => ExternalTool.Run("thin_restore", new[]
                {
                    "-i", corrected ?? metadataFile, "-o", output,
                    "--data-block-size", Sectors.FromBytes(record.BlockSize).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--nr-data-blocks", blocks.ToString(System.Globalization.CultureInfo.InvariantCulture),
                }), failed => new DmPowerShellException(ErrorIds.MetadataUnreadable, ErrorKind.OperationFailed,
                    $"{failed.Program} failed on the export of pool '{name}' (exit {failed.ExitCode}): {failed.Error.Trim()}. Nothing was changed.", metadataFile));
            }
            finally
            {
                if (corrected is not null) File.Delete(corrected);
            }
        });
        plan.Add($"replace the records of pool '{name}' with the {export.Volumes.Count} of the export (transaction id {export.TransactionId}); data written since the export is not in the restored metadata", () =>
        {
            var store = new VolumeStore(pools.Registry, name);
            store.ClearJournal();
            store.Apply(export.Volumes, store.List());
            if (export.NextId > store.NextId) store.SkipId(export.NextId - 1);
            FaultInjection.Step("records-replaced");
        });
        if (!host.ShouldProcess($"pool '{name}'", "Restore", plan.Render()))
        {
            return null;
        }
        FaultInjection.Begin("restore");
        plan.Run(RecordPhase, host);
        using (pools.Registry.LockPool(name))
        {
            plan.Run(host);
        }
        return new PoolBackup
        {
            Pool = name, MetadataFile = metadataFile, RegistryFile = registryFile,
            TransactionId = export.TransactionId, Volumes = export.Volumes.Count, Created = export.Created,
        };
    }
}
