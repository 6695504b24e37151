namespace DmPowerShell.Health;

/// <summary>An active dm device stacked on the pool: its name, UUID and the thin id its table maps.</summary>
public sealed record LiveThinDevice(string Name, string? Uuid, uint? ThinId, string? VolumeName, ulong LengthSectors);
