namespace DmPowerShell.Monitoring;

/// <summary>One step the watcher decided on.</summary>
public sealed record Extension(PoolSpace Space, long From, long To);
