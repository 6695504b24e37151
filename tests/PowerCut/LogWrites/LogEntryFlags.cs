namespace DmPowerShell.Tests.PowerCut.LogWrites;

/// <summary>The flags of a log entry, as drivers/md/dm-log-writes.c writes them.</summary>
[Flags]
public enum LogEntryFlags : ulong
{
    None = 0,
    /// <summary>A cache flush completed here: every write logged before it is on stable storage.</summary>
    Flush = 1 << 0,
    /// <summary>A write that bypassed the cache (forced unit access): stable once logged.</summary>
    Fua = 1 << 1,
    Discard = 1 << 2,
    /// <summary>A mark written by `dmsetup message DEV 0 mark NAME`; its name is the entry's data.</summary>
    Mark = 1 << 3,
    Metadata = 1 << 4,
}
