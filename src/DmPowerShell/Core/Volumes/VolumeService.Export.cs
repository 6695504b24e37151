using System.Diagnostics;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Streams;
using DmPowerShell.Transactions;

namespace DmPowerShell.Volumes;

public sealed partial class VolumeService
{
    /// <summary>
    /// Writes a volume as a stream (about_DmPowerShell_Streams): every mapped range, or with
    /// <paramref name="since"/> only the ranges the pool's metadata says changed since that
    /// snapshot (thin_delta; unchanged data is never read). Runs under the pool's lock; an
    /// inactive volume is activated read-only for the read and deactivated after.
    /// </summary>
    public VolumeStreamSummary Export(string pool, string name, string? since, Stream output, string? path, IOperationHost host)
    {
        var watch = Stopwatch.StartNew();
        using var session = Open(pool);
        session.Prepare(host);
        var record = session.Volumes.Find(name) ?? throw VolumeNotFound(pool, name);
        var baseRecord = since is null ? null : session.Volumes.Find(since) ?? throw VolumeNotFound(pool, since);
        if (baseRecord?.ThinId == record.ThinId)
        {
            throw new DmPowerShellException(ErrorIds.InvalidSetting, ErrorKind.InvalidArgument, $"-Since names '{name}' itself: an incremental stream needs an older snapshot of it.", since);
        }
        if (session.LivePoolDevice() is null)
        {
            throw new DmPowerShellException(ErrorIds.PoolInactive, ErrorKind.InvalidState, $"Pool '{pool}' is not active: its volumes cannot be read. Enable-ThinPool '{pool}' first.", pool);
        }
        var ranges = baseRecord is null
            ? PoolMetadataSnapshot.ReadMappings(dm, session.Pool, live: true, record.ThinId, host).Select(r => new ThinDeltaRange(DifferenceKind.RightOnly, r.Offset, r.Length)).ToList()
            : PoolMetadataSnapshot.ReadDelta(dm, session.Pool, live: true, baseRecord.ThinId, record.ThinId, host);
        var header = new VolumeStreamHeader
        {
            Kind = baseRecord is null ? VolumeStreamHeader.Full : VolumeStreamHeader.Incremental,
            SourcePool = pool,
            SourcePoolId = session.Pool.Id,
            Volume = name,
            ThinId = record.ThinId,
            Identity = record.IdentityIn(session.Pool),
            BaseIdentity = baseRecord is null ? null : baseRecord.ReceivedFrom ?? baseRecord.IdentityIn(session.Pool),
            BaseName = baseRecord?.Name,
            Size = record.Size,
            BlockSize = session.Pool.BlockSize,
            FileSystem = record.FileSystem,
            Exported = DateTimeOffset.UtcNow,
        };
        var activated = false;
        if (session.LiveDevice(record) is null)
        {
            host.Verbose($"activate '{name}' read-only for the export");
            session.Activate(record, readOnly: true);
            activated = true;
        }
        try
        {
            var writer = new VolumeStreamWriter(output, header);
            CopyRanges(session, record, ranges, writer, host);
            writer.Finish();
            return new VolumeStreamSummary
            {
                Pool = pool, Volume = name, Kind = header.Kind, Since = since, Path = path, Size = record.Size,
                Records = writer.Records, DataBytes = writer.DataBytes, StreamBytes = writer.Length, Elapsed = watch.Elapsed,
            };
        }
        finally
        {
            if (activated)
            {
                host.Verbose($"remove device /dev/mapper/{session.VolumeDeviceName(record)} (activated for the export)");
                session.RemoveDevice(record);
            }
        }
    }

    /// <summary>
    /// Exports into a file: written as &lt;path&gt;.partial, flushed to disk and renamed into place
    /// once whole, so a failed or killed export never leaves a file that looks complete.
    /// </summary>
    public VolumeStreamSummary ExportToFile(string pool, string name, string? since, string path, IOperationHost host)
    {
        var partial = path + ".partial";
        try
        {
            VolumeStreamSummary summary;
            using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                summary = Export(pool, name, since, file, path, host);
                file.Flush(flushToDisk: true);
            }
            File.Move(partial, path, overwrite: true);
            return summary;
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }

    private static void CopyRanges(PoolSession session, VolumeRecord record, IReadOnlyList<ThinDeltaRange> ranges, VolumeStreamWriter writer, IOperationHost host)
    {
        var device = $"/dev/mapper/{session.VolumeDeviceName(record)}";
        var total = ranges.Where(r => r.Kind != DifferenceKind.LeftOnly).Sum(r => Math.Min(r.Length, Math.Max(0, record.Size - r.Offset)));
        using var stream = new FileStream(device, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        var buffer = new byte[VolumeStreamWriter.MaxRecordBytes];
        long done = 0;
        foreach (var range in ranges)
        {
            // A mapping past the volume's end (never expected) is not the volume's content.
            var length = Math.Min(range.Length, record.Size - range.Offset);
            if (length <= 0) continue;
            if (range.Kind == DifferenceKind.LeftOnly)
            {
                writer.WriteUnmap(range.Offset, length);
                continue;
            }
            for (var offset = range.Offset; offset < range.Offset + length; offset += buffer.Length)
            {
                var count = (int)Math.Min(buffer.Length, range.Offset + length - offset);
                stream.Position = offset;
                stream.ReadExactly(buffer, 0, count);
                writer.WriteData(offset, buffer.AsSpan(0, count));
                done += count;
                host.Progress($"Exporting '{record.Name}'", $"{done >> 20} of {total >> 20} MiB", total == 0 ? 100 : (int)(done * 100 / total));
            }
        }
        host.Progress($"Exporting '{record.Name}'", "done", 100, completed: true);
    }
}
