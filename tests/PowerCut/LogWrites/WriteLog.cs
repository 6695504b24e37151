using System.Buffers.Binary;
using System.Text;

namespace DmPowerShell.Tests.PowerCut.LogWrites;

/// <summary>
/// A dm-log-writes log read from its device or a copy of it. The format
/// (Documentation/admin-guide/device-mapper/log-writes.rst): sector 0 holds the super block
/// (magic, version, entry count, sector size, little-endian); from sector 1 each entry takes
/// one sector (sector, sector count, flags, data length; a mark's name follows in the same
/// sector), followed by the written data unless it is a discard or a mark.
/// </summary>
public sealed class WriteLog
{
    public const ulong Magic = 0x6a736677736872UL;
    public const ulong Version = 1;
    private const int EntryHeaderBytes = 32;

    private WriteLog(string path, uint sectorSize, IReadOnlyList<LogEntry> entries)
    {
        Path = path;
        SectorSize = sectorSize;
        Entries = entries;
    }

    public string Path { get; }

    public uint SectorSize { get; }

    public IReadOnlyList<LogEntry> Entries { get; }

    public static WriteLog Read(string path)
    {
        using var log = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        return Read(log, path);
    }

    public static WriteLog Read(Stream log, string path)
    {
        Span<byte> super = stackalloc byte[28];
        log.Position = 0;
        log.ReadExactly(super);
        var magic = BinaryPrimitives.ReadUInt64LittleEndian(super);
        var version = BinaryPrimitives.ReadUInt64LittleEndian(super[8..]);
        var count = BinaryPrimitives.ReadUInt64LittleEndian(super[16..]);
        var sectorSize = BinaryPrimitives.ReadUInt32LittleEndian(super[24..]);
        if (magic != Magic) throw new InvalidDataException($"{path}: no dm-log-writes super block (magic {magic:x})");
        if (version != Version) throw new InvalidDataException($"{path}: log version {version}, expected {Version}");
        if (sectorSize is < 512 or > 65536 || (sectorSize & (sectorSize - 1)) != 0) throw new InvalidDataException($"{path}: sector size {sectorSize}");

        var entries = new List<LogEntry>(checked((int)count));
        var header = new byte[sectorSize];
        long position = sectorSize;
        for (long index = 0; index < (long)count; index++)
        {
            log.Position = position;
            log.ReadExactly(header);
            var sector = BinaryPrimitives.ReadUInt64LittleEndian(header);
            var sectors = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(8));
            var flags = (LogEntryFlags)BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(16));
            var dataLength = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(24));
            string? mark = null;
            if ((flags & LogEntryFlags.Mark) != 0)
            {
                if (dataLength > sectorSize - EntryHeaderBytes) throw new InvalidDataException($"{path}: entry {index}: mark of {dataLength} bytes");
                mark = Encoding.UTF8.GetString(header, EntryHeaderBytes, (int)dataLength).TrimEnd('\0');
            }
            position += sectorSize;
            var entry = new LogEntry(index, sector, sectors, flags, mark, position);
            entries.Add(entry);
            // Only writes carry data in the log; a discard's sector count is not followed by any.
            if (entry.IsWrite) position += checked((long)sectors * sectorSize);
        }
        if (position > log.Length) throw new InvalidDataException($"{path}: {count} entries end at byte {position}, past the log's {log.Length}");
        return new WriteLog(path, sectorSize, entries);
    }

    /// <summary>The index of the mark named <paramref name="name"/>, or -1.</summary>
    public long FindMark(string name)
    {
        foreach (var entry in Entries)
        {
            if (entry.Mark == name) return entry.Index;
        }
        return -1;
    }
}
