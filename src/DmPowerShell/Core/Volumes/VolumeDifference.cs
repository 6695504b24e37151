using DmPowerShell.Pools;

namespace DmPowerShell.Volumes;

/// <summary>One range where two volumes of a pool differ (Compare-ThinVolume), in bytes from the start of the volume.</summary>
public sealed record VolumeDifference
{
    public required string Pool { get; init; }
    public required string Reference { get; init; }
    public required string Difference { get; init; }
    /// <summary>LeftOnly: mapped in the reference only; RightOnly: in the difference only; Different: in both, to different data.</summary>
    public DifferenceKind Kind { get; init; }
    public long Offset { get; init; }
    public long Length { get; init; }
}
