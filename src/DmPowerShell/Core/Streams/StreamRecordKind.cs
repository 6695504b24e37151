namespace DmPowerShell.Streams;

/// <summary>The first byte of each record of a volume stream.</summary>
public enum StreamRecordKind : byte
{
    /// <summary>Bytes at an offset: offset (u64), length (u32), the bytes, their SHA-256.</summary>
    Data = (byte)'D',

    /// <summary>A range that reads zeros (unmapped): offset (u64), length (u64), SHA-256.</summary>
    Unmap = (byte)'U',

    /// <summary>The trailer: record count (u64), data bytes (u64), SHA-256 of the whole stream before it.</summary>
    End = (byte)'E',
}
