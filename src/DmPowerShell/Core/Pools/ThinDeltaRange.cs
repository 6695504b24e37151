namespace DmPowerShell.Pools;

/// <summary>One range where two thin devices differ, in bytes from the start of the device.</summary>
public sealed record ThinDeltaRange(DifferenceKind Kind, long Offset, long Length);
