namespace DmPowerShell.Registry;

/// <summary>Whether a pool's creation finished. A record left in Creating is rolled back.</summary>
public enum RecordState
{
    Creating,
    Ready,
}
