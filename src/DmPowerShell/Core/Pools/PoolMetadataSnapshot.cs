using DmPowerShell.Kernel;
using DmPowerShell.Registry;
using DmPowerShell.Storage;

namespace DmPowerShell.Pools;

/// <summary>
/// A live pool's own metadata, read while the kernel holds a metadata snapshot
/// (reserve_metadata_snap, then thin_dump --metadata-snap, then release_metadata_snap, always).
/// Callers hold the pool's lock: a snapshot found held under it was left by a killed command of
/// ours, and is released before taking another (the kernel holds one at most).
/// </summary>
public static class PoolMetadataSnapshot
{
    /// <summary>Runs <paramref name="read"/> on the live pool's metadata device while a metadata snapshot is held; releases it always.</summary>
    public static T Read<T>(IDeviceMapper dm, PoolRecord record, IOperationHost? host, Func<string, T> read)
    {
        var table = ThinPoolTable.Parse(dm.GetTable(record.DeviceName).Single().Parameters);
        var metadataDevice = PoolService.BlockDeviceName(table.MetadataDevice);
        if (ThinPoolStatus.Parse(dm.GetStatus(record.DeviceName, noFlush: true).Single().Parameters).HeldMetadataRoot is not null)
        {
            host?.Verbose($"message {record.DevicePath} 0 release_metadata_snap (left held by an interrupted command)");
            dm.SendMessage(record.DeviceName, PoolMessage.ReleaseMetadataSnapshot());
        }
        host?.Verbose($"message {record.DevicePath} 0 reserve_metadata_snap");
        dm.SendMessage(record.DeviceName, PoolMessage.ReserveMetadataSnapshot());
        try
        {
            FaultInjection.Step("snapshot-reserved");
            return read(metadataDevice);
        }
        finally
        {
            host?.Verbose($"message {record.DevicePath} 0 release_metadata_snap");
            dm.SendMessage(record.DeviceName, PoolMessage.ReleaseMetadataSnapshot());
        }
    }

    /// <summary>The thin devices of a live pool as its metadata knows them (no mappings): ids and mapped blocks.</summary>
    public static PoolMetadata ReadDevices(IDeviceMapper dm, PoolRecord record, IOperationHost? host = null) =>
        Read(dm, record, host, device => PoolMetadata.ParseXml(ThinDump(device, metadataSnapshot: true, "--skip-mappings")));

    /// <summary>thin_dump's XML of the metadata on <paramref name="device"/> (of its held snapshot with <paramref name="metadataSnapshot"/>).</summary>
    public static string ThinDump(string device, bool metadataSnapshot, params string[] options)
    {
        var arguments = new List<string>();
        if (metadataSnapshot) arguments.Add("--metadata-snap");
        arguments.AddRange(options);
        arguments.Add(device);
        var result = ExternalTool.Run("thin_dump", arguments);
        if (result.ExitCode != 0)
        {
            throw new DmPowerShellException(ErrorIds.MetadataUnreadable, ErrorKind.OperationFailed,
                $"thin_dump could not read the metadata on {device} (exit {result.ExitCode}): {result.Error.Trim()}", device);
        }
        return result.Output;
    }
}
