namespace DmPowerShell.Health;

/// <summary>One fix Repair-ThinPool made (or, under -WhatIf, would have made).</summary>
public sealed record PoolRepair(string Pool, ProblemKind Kind, uint? ThinId, string? Name, string Action, bool Done);
