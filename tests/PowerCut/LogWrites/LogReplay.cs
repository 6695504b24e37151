namespace DmPowerShell.Tests.PowerCut.LogWrites;

/// <summary>
/// Applies a log's entries to an image of the logged device, as the device would hold them
/// had the power failed at that point. Forward only: <see cref="ReplayTo"/> continues from
/// where the last call stopped, so visiting every point of a log costs one pass over it.
/// </summary>
public sealed class LogReplay : IDisposable
{
    private readonly WriteLog log;
    private readonly FileStream source;
    private readonly FileStream image;
    private byte[] buffer = new byte[1 << 20];

    public LogReplay(WriteLog log, string imagePath)
    {
        this.log = log;
        source = new FileStream(log.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        image = new FileStream(imagePath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1 << 16);
    }

    /// <summary>Entries applied so far: the next one to apply.</summary>
    public long Next { get; private set; }

    /// <summary>Applies every entry up to and including <paramref name="index"/>.</summary>
    public void ReplayTo(long index)
    {
        if (index < Next - 1) throw new InvalidOperationException($"the image is already past entry {index} (next {Next})");
        for (; Next <= index; Next++) Apply(log.Entries[(int)Next]);
        image.Flush();
    }

    /// <summary>
    /// Applies the given entries of a volatile-cache window in the order given (a device with a
    /// write cache may have kept any subset of the writes since the last flush, in any order),
    /// onto the image as it stands, without moving <see cref="Next"/>: for an image copied first.
    /// </summary>
    public static void Apply(WriteLog log, string imagePath, IEnumerable<LogEntry> entries)
    {
        using var replay = new LogReplay(log, imagePath);
        foreach (var entry in entries) replay.Apply(entry);
        replay.image.Flush();
    }

    private void Apply(LogEntry entry)
    {
        var sectorSize = log.SectorSize;
        if (entry.IsWrite)
        {
            var bytes = checked((long)entry.Sectors * sectorSize);
            if (buffer.Length < bytes) buffer = new byte[bytes];
            source.Position = entry.DataOffset;
            source.ReadExactly(buffer, 0, (int)bytes);
            image.Position = checked((long)entry.Sector * sectorSize);
            image.Write(buffer, 0, (int)bytes);
        }
        else if (entry.IsDiscard)
        {
            // A discarded range reads back as zeros on the devices this harness logs (loop over tmpfs).
            var bytes = checked((long)entry.Sectors * sectorSize);
            image.Position = checked((long)entry.Sector * sectorSize);
            Array.Clear(buffer);
            for (long done = 0; done < bytes; done += buffer.Length) image.Write(buffer, 0, (int)Math.Min(buffer.Length, bytes - done));
        }
    }

    public void Dispose()
    {
        source.Dispose();
        image.Dispose();
    }
}
