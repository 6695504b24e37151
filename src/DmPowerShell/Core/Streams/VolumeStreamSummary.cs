namespace DmPowerShell.Streams;

/// <summary>What an export wrote or an import applied.</summary>
public sealed record VolumeStreamSummary
{
    public required string Pool { get; init; }
    public required string Volume { get; init; }
    public required string Kind { get; init; }
    public string? Since { get; init; }
    public string? Path { get; init; }
    public long Size { get; init; }
    public long Records { get; init; }
    /// <summary>Volume bytes carried as data.</summary>
    public long DataBytes { get; init; }
    /// <summary>The stream's own length in bytes.</summary>
    public long StreamBytes { get; init; }
    public TimeSpan Elapsed { get; init; }
}
