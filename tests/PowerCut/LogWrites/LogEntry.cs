namespace DmPowerShell.Tests.PowerCut.LogWrites;

/// <summary>
/// One entry of a dm-log-writes log, in the order the writes completed: a write (its data at
/// <see cref="DataOffset"/> in the log), a discard, a flush, or a mark.
/// </summary>
/// <param name="Index">Position in the log, from 0.</param>
/// <param name="Sector">First sector written on the logged device (log sectors).</param>
/// <param name="Sectors">Sectors written or discarded.</param>
/// <param name="DataOffset">Byte offset of the written data in the log file.</param>
public sealed record LogEntry(long Index, ulong Sector, ulong Sectors, LogEntryFlags Flags, string? Mark, long DataOffset)
{
    public bool IsWrite => Sectors > 0 && (Flags & (LogEntryFlags.Discard | LogEntryFlags.Mark)) == 0;

    public bool IsDiscard => (Flags & LogEntryFlags.Discard) != 0;

    /// <summary>A point a power cut can stop at with nothing volatile lost: after a flush or a FUA write.</summary>
    public bool IsDurablePoint => (Flags & (LogEntryFlags.Flush | LogEntryFlags.Fua)) != 0;

    public override string ToString() =>
        Mark is not null ? $"#{Index} mark {Mark}" : $"#{Index} {Flags} sector {Sector} +{Sectors}";
}
