namespace DmPowerShell;

/// <summary>A host that allows everything and discards messages (tests, drivers, the benchmark).</summary>
public sealed class SilentHost : IOperationHost
{
    public static SilentHost Instance { get; } = new();

    public List<string> Warnings { get; } = new();

    public bool ShouldProcess(string target, string action, Func<string> plan) => true;

    public void Verbose(string message) { }

    public void Warning(string message) => Warnings.Add(message);

    public bool Confirm(string query, string caption) => true;

    public void Progress(string activity, string status, int percent, bool completed = false) { }
}
