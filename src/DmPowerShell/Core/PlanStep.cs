namespace DmPowerShell;

/// <summary>One step of a change: the line -WhatIf shows and -Verbose reports, and what it does.</summary>
/// <param name="Describe">Read when shown: at -WhatIf time it gives the planned values, as the step starts the actual ones. Empty: a step with nothing to tell (a check, a crash point).</param>
public sealed record PlanStep(string Phase, Func<string> Describe, Action Run);
