using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Units;

namespace DmPowerShell.Monitoring;

/// <summary>One step the watcher decided on.</summary>
public sealed record Extension(PoolSpace Space, long From, long To);
