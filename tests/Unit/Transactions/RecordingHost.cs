namespace DmPowerShell.Tests.Unit.Transactions;

/// <summary>A host that records the plans it is shown and the verbose lines it gets; it allows the change or, as -WhatIf, declines it.</summary>
internal sealed class RecordingHost : IOperationHost
{
    private readonly bool allow;

    public RecordingHost(bool allow) => this.allow = allow;

    public List<string> Plans { get; } = new();
    public List<string> Verbose { get; } = new();
    public List<string> Warnings { get; } = new();

    public bool ShouldProcess(string target, string action, Func<string> plan)
    {
        Plans.Add(plan());
        return allow;
    }

    void IOperationHost.Verbose(string message) => Verbose.Add(message);

    public void Warning(string message) => Warnings.Add(message);

    public bool Confirm(string query, string caption) => allow;

    public void Progress(string activity, string status, int percent, bool completed = false) { }
}
