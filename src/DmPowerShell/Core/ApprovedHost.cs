namespace DmPowerShell;

/// <summary>
/// A host for the steps of a change the caller has already asked about as a whole (an import
/// creates a volume, then writes it): inner questions are answered yes, their plans reported verbosely.
/// </summary>
public sealed class ApprovedHost : IOperationHost
{
    private readonly IOperationHost inner;

    public ApprovedHost(IOperationHost inner) => this.inner = inner;

    public bool ShouldProcess(string target, string action, Func<string> plan)
    {
        inner.Verbose($"{action} {target}");
        return true;
    }

    public void Verbose(string message) => inner.Verbose(message);

    public void Warning(string message) => inner.Warning(message);

    public bool Confirm(string query, string caption) => true;

    public void Progress(string activity, string status, int percent, bool completed = false) => inner.Progress(activity, status, percent, completed);
}
