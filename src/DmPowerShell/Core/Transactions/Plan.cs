namespace DmPowerShell.Transactions;

/// <summary>One step of a change: the line -WhatIf shows and -Verbose reports, and what it does.</summary>
/// <param name="Describe">Read when shown: at -WhatIf time it gives the planned values, as the step starts the actual ones.</param>
public sealed record PlanStep(string Phase, Func<string> Describe, Action Run);

/// <summary>
/// A change as data, built once by the code that runs it: -WhatIf renders its steps, execution
/// runs them phase by phase and reports each to -Verbose as it starts. Phases let the runner
/// decide what is undone when one fails.
/// </summary>
public sealed class Plan
{
    private readonly List<PlanStep> steps = new();

    public IReadOnlyList<PlanStep> Steps => steps;

    public Plan Add(string phase, string text, Action run) => Add(phase, () => text, run);

    public Plan Add(string phase, Func<string> describe, Action run)
    {
        steps.Add(new PlanStep(phase, describe, run));
        return this;
    }

    /// <summary>The plan as -WhatIf shows it: one line per step.</summary>
    public string Render() => string.Join(Environment.NewLine, steps.Select(s => s.Describe()));

    /// <summary>Runs the steps of one phase in order, each reported to -Verbose (a line a record) as it starts.</summary>
    public void Run(string phase, IOperationHost host)
    {
        foreach (var step in steps.Where(s => s.Phase == phase))
        {
            foreach (var line in step.Describe().Split(Environment.NewLine)) host.Verbose(line);
            step.Run();
        }
    }
}
