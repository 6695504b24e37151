namespace DmPowerShell.Volumes;

/// <summary>Where two volumes of a pool differ, and how many bytes that is (Compare-ThinVolume -Summary).</summary>
public sealed record VolumeComparison
{
    public required string Pool { get; init; }
    public required string Reference { get; init; }
    public required string Difference { get; init; }
    public IReadOnlyList<VolumeDifference> Ranges { get; init; } = Array.Empty<VolumeDifference>();
    /// <summary>Bytes in every differing range: what an incremental copy from the reference to the difference carries.</summary>
    public long ChangedBytes { get; init; }
    public long LeftOnlyBytes { get; init; }
    public long RightOnlyBytes { get; init; }
    public long DifferentBytes { get; init; }
}
