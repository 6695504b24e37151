namespace DmPowerShell.Registry;

/// <summary>A lock could not be taken in time.</summary>
public sealed class LockTimeoutException : TimeoutException
{
    public LockTimeoutException(string what, string path, TimeSpan timeout, string holder)
        : base($"Timed out after {timeout.TotalSeconds:0.#} s waiting for the lock on {what} ({path}): it is held by {holder}.")
    {
        LockPath = path;
        Holder = holder;
    }

    public string LockPath { get; }
    public string Holder { get; }
}
