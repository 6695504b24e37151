using System.Diagnostics;
using DmPowerShell.Interop;
using DmPowerShell.Registry;
using DmPowerShell.Streams;
using DmPowerShell.Units;

namespace DmPowerShell.Volumes;

public sealed partial class VolumeService
{
    /// <summary>
    /// Applies a volume stream as a new volume of <paramref name="pool"/>: a full stream into a new
    /// thin volume, an incremental one onto a new snapshot of the volume that received its base
    /// (<paramref name="baseName"/>, or found by the identity the stream names). Only the ranges
    /// the stream carries are written, so unmapped ranges stay unmapped. Every record is checked
    /// before it is written and the whole stream at its end: a stream cut short or altered is
    /// refused (StreamCorrupt) and the new volume removed, leaving the pool as it was.
    /// </summary>
    public VolumeStreamSummary? Import(string pool, string name, Stream input, string source, string? baseName, IOperationHost host)
    {
        var watch = Stopwatch.StartNew();
        var reader = new VolumeStreamReader(input, source);
        var header = reader.Header;
        var incremental = header.Kind == VolumeStreamHeader.Incremental;
        if (!incremental && header.Kind != VolumeStreamHeader.Full)
        {
            throw new DmPowerShellException(ErrorIds.StreamCorrupt, ErrorKind.InvalidData, $"The volume stream from {source} is of kind '{header.Kind}', which this version does not know.", source);
        }
        var origin = incremental ? FindStreamBase(pool, header, baseName) : null;
        var what = incremental
            ? $"snapshot '{name}' of '{origin!.Name}' in pool '{pool}' from an incremental stream of '{header.Volume}' since '{header.BaseName}'"
            : $"thin volume '{name}' ({ByteSize.Format(header.Size)}) in pool '{pool}' from a full stream of '{header.Volume}'";
        if (!host.ShouldProcess(what, "Import", $"create {what}{Environment.NewLine}write the stream's ranges into /dev/mapper/{Naming.VolumeDeviceName(pool, name)}{Environment.NewLine}record it as received from {header.Identity}"))
        {
            return null;
        }
        var inner = new ApprovedHost(host);
        var created = incremental
            ? Snapshot(pool, origin!.Name, new[] { name }, activate: true, readOnly: false, inner)[0]
            : Create(pool, name, header.Size, null, activate: true, inner)!;
        try
        {
            if (incremental && header.Size > created.Size) Resize(pool, name, header.Size, growFileSystem: false, inner);
            using var session = Open(pool);
            var (records, bytes) = Apply(reader, created, session.Pool.BlockSize, session.Pool.DiscardMode != Kernel.DiscardMode.Ignore, host);
            session.Prepare(inner);
            var record = session.Volumes.Find(name)!;
            session.Volumes.Save(record with { ReceivedFrom = header.Identity, FileSystem = header.FileSystem ?? record.FileSystem });
            return new VolumeStreamSummary
            {
                Pool = pool, Volume = name, Kind = header.Kind, Since = origin?.Name, Path = source, Size = header.Size,
                Records = records, DataBytes = bytes, Elapsed = watch.Elapsed,
            };
        }
        catch
        {
            host.Warning($"Removing '{name}' from pool '{pool}': the import did not complete.");
            Remove(pool, name, inner);
            throw;
        }
    }

    /// <summary>The volume an incremental stream applies to: it must have received the stream's base.</summary>
    private VolumeRecord FindStreamBase(string pool, VolumeStreamHeader header, string? baseName)
    {
        using var session = Open(pool);
        bool Matches(VolumeRecord r) => r.ReceivedFrom == header.BaseIdentity || r.IdentityIn(session.Pool) == header.BaseIdentity;
        if (baseName is not null)
        {
            var named = session.Volumes.Find(baseName) ?? throw VolumeNotFound(pool, baseName);
            if (!Matches(named))
            {
                throw new DmPowerShellException(ErrorIds.StreamBaseMismatch, ErrorKind.InvalidArgument,
                    $"The stream holds the changes of '{header.Volume}' since '{header.BaseName}' ({header.BaseIdentity}), but '{baseName}' in pool '{pool}' was not received from that snapshot ({named.ReceivedFrom ?? "it was not received at all"}). Applying it would mix two histories; send a full stream instead.", baseName);
            }
            return named;
        }
        // Usually the base kept its name on both sides: one record read, not every record of a large pool.
        if (header.BaseName is not null && session.Volumes.Find(header.BaseName) is { } sameName && Matches(sameName))
        {
            return sameName;
        }
        return session.Volumes.List().FirstOrDefault(Matches) ?? throw new DmPowerShellException(ErrorIds.StreamBaseMismatch, ErrorKind.NotFound,
            $"The stream holds the changes of '{header.Volume}' since '{header.BaseName}' ({header.BaseIdentity}), and no volume of pool '{pool}' was received from that snapshot. Import its full stream first, or give -Base.", header.BaseIdentity);
    }

    /// <summary>Writes each verified record into the new volume; unmapped ranges are discarded, so they read zeros.</summary>
    /// <param name="blockBytes">The receiving pool's block size: dm-thin unmaps whole blocks only.</param>
    /// <param name="discards">Whether the receiving pool acts on discards (not ignore_discard).</param>
    private static (long Records, long Bytes) Apply(VolumeStreamReader reader, ThinVolume volume, long blockBytes, bool discards, IOperationHost host)
    {
        long records = 0, bytes = 0;
        using (var device = new FileStream(volume.DevicePath!, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, bufferSize: 0))
        {
            while (reader.Next() is { } extent)
            {
                if (extent.Offset < 0 || extent.Offset + extent.Length > volume.Size)
                {
                    throw new DmPowerShellException(ErrorIds.StreamCorrupt, ErrorKind.InvalidData,
                        $"The volume stream has a range at {extent.Offset} (+{extent.Length}) outside its {volume.Size}-byte volume.", extent.Offset);
                }
                if (extent.Kind == StreamRecordKind.Unmap)
                {
                    Unmap(device, extent.Offset, extent.Length, blockBytes, discards);
                }
                else
                {
                    device.Position = extent.Offset;
                    device.Write(extent.Data.Span);
                    bytes += extent.Length;
                }
                records++;
                host.Progress($"Importing '{volume.Name}'", $"{bytes >> 20} MiB written", -1);
            }
            device.Flush(flushToDisk: true);
        }
        host.Progress($"Importing '{volume.Name}'", "done", 100, completed: true);
        return (records, bytes);
    }

    /// <summary>
    /// Makes a range read zeros: its whole pool blocks are discarded (unmapped, so the volume stays
    /// thin), the parts of blocks at its edges written with zeros (dm-thin ignores partial-block
    /// discards). A pool that ignores discards gets zeros written throughout.
    /// </summary>
    private static void Unmap(FileStream device, long offset, long length, long blockBytes, bool discards)
    {
        var end = offset + length;
        var first = (offset + blockBytes - 1) / blockBytes * blockBytes;
        var last = end / blockBytes * blockBytes;
        if (!discards || first >= last)
        {
            WriteZeros(device, offset, length);
            return;
        }
        WriteZeros(device, offset, first - offset);
        BlockDevices.Discard(device.SafeFileHandle, first, last - first);
        WriteZeros(device, last, end - last);
    }

    private static void WriteZeros(FileStream device, long offset, long length)
    {
        if (length <= 0) return;
        var zeros = new byte[(int)Math.Min(length, 1 << 20)];
        device.Position = offset;
        for (var left = length; left > 0; left -= zeros.Length)
        {
            device.Write(zeros, 0, (int)Math.Min(zeros.Length, left));
        }
    }
}
