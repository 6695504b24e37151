namespace DmPowerShell.Monitoring;

/// <summary>Which of the pool's two spaces an event concerns.</summary>
public enum PoolSpace
{
    Data,
    Metadata,
}
