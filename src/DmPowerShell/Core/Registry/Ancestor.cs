using DmPowerShell.Kernel;

namespace DmPowerShell.Registry;

/// <summary>One ancestor of a snapshot as it was when the snapshot was taken.</summary>
public sealed record Ancestor(ThinId ThinId, string Name);
