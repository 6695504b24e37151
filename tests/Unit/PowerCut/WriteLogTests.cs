using System.Buffers.Binary;
using System.Text;
using DmPowerShell.Tests.PowerCut.LogWrites;

namespace DmPowerShell.Tests.Unit.PowerCut;

/// <summary>The dm-log-writes reader and replayer, on logs laid out as the kernel writes them.</summary>
public sealed class WriteLogTests : IDisposable
{
    private const int Sector = 512;
    private readonly string folder = Directory.CreateTempSubdirectory("dmps-logwrites-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void Reads_writes_flushes_discards_and_marks_in_log_order()
    {
        var log = WriteLog.Read(BuildLog(
            Write(2, Fill('a', 2)), Flush(), Mark("op-start"), Discard(0, 8), Write(1, Fill('b', 1), LogEntryFlags.Fua)));

        Assert.Equal(5, log.Entries.Count);
        Assert.True(log.Entries[0].IsWrite);
        Assert.Equal(2UL, log.Entries[0].Sector);
        Assert.True(log.Entries[1].IsDurablePoint);
        Assert.Equal("op-start", log.Entries[2].Mark);
        Assert.Equal(2, log.FindMark("op-start"));
        Assert.True(log.Entries[3].IsDiscard);
        Assert.True(log.Entries[4].IsDurablePoint);
        // Header sectors, the first write's two data sectors; the discard carries none.
        Assert.Equal((1 + 1 + 2 + 1 + 1 + 1 + 1) * Sector, log.Entries[4].DataOffset);
    }

    [Fact]
    public void Replays_forward_to_each_point_as_the_device_held_it()
    {
        var log = WriteLog.Read(BuildLog(Write(2, Fill('a', 2)), Flush(), Discard(3, 1), Write(0, Fill('b', 1)), Flush()));
        var image = Path.Combine(folder, "image");
        File.WriteAllBytes(image, new byte[8 * Sector]);
        using (var replay = new LogReplay(log, image))
        {
            replay.ReplayTo(1);
            Assert.Equal(2, replay.Next);
            Assert.Equal("..aa....", Picture(image));
            replay.ReplayTo(4);
            Assert.Throws<InvalidOperationException>(() => replay.ReplayTo(1));
        }
        Assert.Equal("b.a.....", Picture(image));
    }

    [Fact]
    public void Applies_a_chosen_subset_of_a_window_in_the_order_given()
    {
        var log = WriteLog.Read(BuildLog(Write(0, Fill('a', 1)), Write(0, Fill('b', 1)), Write(1, Fill('c', 1))));
        var image = Path.Combine(folder, "image");
        File.WriteAllBytes(image, new byte[4 * Sector]);
        LogReplay.Apply(log, image, [log.Entries[2], log.Entries[1], log.Entries[0]]);
        Assert.Equal("ac..", Picture(image));
    }

    [Fact]
    public void Refuses_what_is_not_a_log_or_ends_early()
    {
        var notLog = Path.Combine(folder, "zeros");
        File.WriteAllBytes(notLog, new byte[4 * Sector]);
        Assert.Throws<InvalidDataException>(() => WriteLog.Read(notLog));

        var cut = BuildLog(Write(0, Fill('a', 4)));
        using (var stream = new FileStream(cut, FileMode.Open)) stream.SetLength(3 * Sector);
        Assert.Throws<InvalidDataException>(() => WriteLog.Read(cut));
    }

    private static (ulong Sector, ulong Sectors, LogEntryFlags Flags, byte[] Data) Write(ulong sector, byte[] data, LogEntryFlags flags = LogEntryFlags.None) =>
        (sector, (ulong)(data.Length / Sector), flags, data);

    private static (ulong, ulong, LogEntryFlags, byte[]) Flush() => (0, 0, LogEntryFlags.Flush, []);

    private static (ulong, ulong, LogEntryFlags, byte[]) Discard(ulong sector, ulong sectors) => (sector, sectors, LogEntryFlags.Discard, []);

    private static (ulong, ulong, LogEntryFlags, byte[]) Mark(string name) => (0, 0, LogEntryFlags.Mark, Encoding.UTF8.GetBytes(name));

    private static byte[] Fill(char c, int sectors) => Enumerable.Repeat((byte)c, sectors * Sector).ToArray();

    /// <summary>One character per sector: its first byte, or '.' for zeros.</summary>
    private static string Picture(string image) =>
        new(File.ReadAllBytes(image).Chunk(Sector).Select(s => s[0] == 0 ? '.' : (char)s[0]).ToArray());

    private string BuildLog(params (ulong Sector, ulong Sectors, LogEntryFlags Flags, byte[] Data)[] entries)
    {
        var path = Path.Combine(folder, $"log{Guid.NewGuid():n}");
        using var stream = new FileStream(path, FileMode.CreateNew);
        var super = new byte[Sector];
        BinaryPrimitives.WriteUInt64LittleEndian(super, WriteLog.Magic);
        BinaryPrimitives.WriteUInt64LittleEndian(super.AsSpan(8), WriteLog.Version);
        BinaryPrimitives.WriteUInt64LittleEndian(super.AsSpan(16), (ulong)entries.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(super.AsSpan(24), Sector);
        stream.Write(super);
        foreach (var (sector, sectors, flags, data) in entries)
        {
            var header = new byte[Sector];
            BinaryPrimitives.WriteUInt64LittleEndian(header, sector);
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(8), sectors);
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), (ulong)flags);
            BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(24), (ulong)data.Length);
            if ((flags & LogEntryFlags.Mark) != 0) data.CopyTo(header, 32);
            stream.Write(header);
            if ((flags & (LogEntryFlags.Mark | LogEntryFlags.Discard)) == 0) stream.Write(data);
        }
        return path;
    }
}
