using DmPowerShell.Interop;
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

    /// <summary>thin_dump's XML of the metadata on <paramref name="device"/> (of its held snapshot with <paramref name="metadataSnapshot"/>).</summary>
    public static string ThinDump(string device, bool metadataSnapshot, params string[] options)
    {
        var arguments = new List<string>();
        if (metadataSnapshot) arguments.Add("--metadata-snap");
        arguments.AddRange(options);
        arguments.Add(device);
        return Run("thin_dump", arguments);
    }

    /// <summary>
    /// Runs <paramref name="read"/> on the pool's metadata, told whether it reads a held snapshot:
    /// through a metadata snapshot while the pool is live, else at rest through a read-only device.
    /// </summary>
    private static T ReadLiveOrAtRest<T>(IDeviceMapper dm, PoolRecord record, bool live, IOperationHost? host, Func<string, bool, T> read)
    {
        if (live)
        {
            return Read(dm, record, host, device => read(device, true));
        }
        using var atRest = OpenAtRest(record.MetadataPath);
        return read(atRest.Path, false);
    }

    /// <summary>Bytes each thin device maps (thin_ls), and with <paramref name="exclusive"/> the bytes no other device shares.</summary>
    public static IReadOnlyList<ThinDeviceUsage> ReadUsage(IDeviceMapper dm, PoolRecord record, bool live, bool exclusive, IOperationHost? host = null) =>
        ReadLiveOrAtRest(dm, record, live, host, (device, snapshot) => ThinDeviceUsage.Parse(ThinLs(device, snapshot, exclusive), exclusive));

    /// <summary>The ranges where two thin devices' mappings differ (thin_delta).</summary>
    public static IReadOnlyList<ThinDeltaRange> ReadDelta(IDeviceMapper dm, PoolRecord record, bool live, uint left, uint right, IOperationHost? host = null) =>
        ReadLiveOrAtRest(dm, record, live, host, (device, snapshot) => ThinDelta.Parse(Run("thin_delta",
            (snapshot ? new[] { "--metadata-snap" } : Array.Empty<string>())
                .Concat(new[] { "--snap1", left.ToString(System.Globalization.CultureInfo.InvariantCulture), "--snap2", right.ToString(System.Globalization.CultureInfo.InvariantCulture), device }))));

    /// <summary>The ranges of one thin device that map data (thin_dump --dev-id).</summary>
    public static IReadOnlyList<(long Offset, long Length)> ReadMappings(IDeviceMapper dm, PoolRecord record, bool live, uint thinId, IOperationHost? host = null) =>
        ReadLiveOrAtRest(dm, record, live, host, (device, snapshot) => ThinMappings.Parse(
            ThinDump(device, snapshot, "--dev-id", thinId.ToString(System.Globalization.CultureInfo.InvariantCulture))));

    private static string ThinLs(string device, bool metadataSnapshot, bool exclusive)
    {
        var arguments = new List<string> { "--no-headers", "--format", exclusive ? ThinDeviceUsage.ExclusiveFields : ThinDeviceUsage.MappedFields };
        if (metadataSnapshot) arguments.Add("--metadata-snap");
        arguments.Add(device);
        return Run("thin_ls", arguments);
    }

    /// <summary>A thin-provisioning-tools program's output; a failure is the metadata's, typed.</summary>
    private static string Run(string program, IEnumerable<string> arguments)
    {
        var list = arguments.ToList();
        var result = ExternalTool.Run(program, list);
        if (result.ExitCode != 0)
        {
            throw new DmPowerShellException(ErrorIds.MetadataUnreadable, ErrorKind.OperationFailed,
                $"{program} could not read the metadata on {list[^1]} (exit {result.ExitCode}): {result.Error.Trim()}", list[^1]);
        }
        return result.Output;
    }

    /// <summary>thin_dump reads with O_DIRECT, which some file systems refuse: a file is read through a read-only loop device.</summary>
    public static ReadOnlyDevice OpenAtRest(string path)
    {
        if (BlockDevices.IsBlockDevice(path))
        {
            return new ReadOnlyDevice(path, null);
        }
        var loop = LoopDevices.Attach(path, readOnly: true);
        return new ReadOnlyDevice(loop.Device.Path, loop);
    }

    public sealed class ReadOnlyDevice : IDisposable
    {
        private readonly LoopAttachment? loop;

        public ReadOnlyDevice(string path, LoopAttachment? loop)
        {
            Path = path;
            this.loop = loop;
        }

        public string Path { get; }

        public void Dispose()
        {
            if (loop is null) return;
            var path = loop.Device.Path;
            loop.Dispose();
            // Auto-clear detaches it once closed; clear it explicitly too, in case it is still bound.
            try { LoopDevices.Detach(path); } catch (NativeCallException) { }
        }
    }
}
