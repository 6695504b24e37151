namespace DmPowerShell;

/// <summary>
/// What a service needs from its caller while it works: permission for each change (the
/// cmdlets pass ShouldProcess here, so -WhatIf and -Confirm see the real plan), and a place
/// for verbose lines, warnings and progress. The core knows nothing of PowerShell.
/// </summary>
public interface IOperationHost
{
    /// <summary>
    /// Asks before a change. <paramref name="plan"/> lists exactly what would be done; the host
    /// calls it only when it shows the plan (-WhatIf, -Confirm, -Verbose), since building it
    /// reads the kernel and the registry, which a change that just runs need not do twice.
    /// </summary>
    bool ShouldProcess(string target, string action, Func<string> plan);

    /// <summary>Asks before a change whose plan is already text.</summary>
    bool ShouldProcess(string target, string action, string plan) => ShouldProcess(target, action, () => plan);

    void Verbose(string message);

    void Warning(string message);

    /// <summary>A second, explicit confirmation before destroying data (-Force skips it).</summary>
    bool Confirm(string query, string caption);

    /// <summary>Progress of a longer operation; percent -1 when unknown; completed closes the bar.</summary>
    void Progress(string activity, string status, int percent, bool completed = false);
}
