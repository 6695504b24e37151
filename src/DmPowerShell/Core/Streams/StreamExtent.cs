namespace DmPowerShell.Streams;

/// <summary>One verified record of a volume stream: data to write, or a range to unmap (<see cref="Data"/> empty).</summary>
public sealed record StreamExtent(StreamRecordKind Kind, long Offset, long Length, ReadOnlyMemory<byte> Data);
