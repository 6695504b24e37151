namespace DmPowerShell.Pools;

/// <summary>How a range of two thin devices differs.</summary>
public enum DifferenceKind
{
    /// <summary>Mapped in the reference only (the difference reads zeros, or its origin's data, there).</summary>
    LeftOnly,
    /// <summary>Mapped in the difference only.</summary>
    RightOnly,
    /// <summary>Mapped in both, to different data blocks.</summary>
    Different,
}
