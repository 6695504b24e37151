namespace DmPowerShell;

/// <summary>
/// A change as data, built once by the code that runs it: -WhatIf renders its steps, execution
/// runs them phase by phase and reports each to -Verbose as it starts. Phases let the runner
/// decide what is undone when one fails, and what runs under which lock.
/// </summary>
public sealed class Plan
{
    /// <summary>The phase of a change that has only one.</summary>
    public const string Main = "main";

    private readonly List<PlanStep> steps = new();

    public IReadOnlyList<PlanStep> Steps => steps;

    public Plan Add(string phase, string text, Action run) => Add(phase, () => text, run);

    public Plan Add(string phase, Func<string> describe, Action run)
    {
        steps.Add(new PlanStep(phase, describe, run));
        return this;
    }

    /// <summary>A step of the only phase.</summary>
    public Plan Add(string text, Action run) => Add(Main, () => text, run);

    public Plan Add(Func<string> describe, Action run) => Add(Main, describe, run);

    /// <summary>The plan as -WhatIf shows it: one line per step.</summary>
    public string Render() => string.Join(Environment.NewLine, steps.Select(s => s.Describe()).Where(text => text.Length > 0));

    /// <summary>Runs the steps of one phase in order, each reported to -Verbose (a line a record) as it starts.</summary>
    public void Run(string phase, IOperationHost host)
    {
        foreach (var step in steps.Where(s => s.Phase == phase))
        {
            var text = step.Describe();
            if (text.Length > 0)
            {
                foreach (var line in text.Split(Environment.NewLine)) host.Verbose(line);
            }
            step.Run();
        }
    }

    /// <summary>Runs a plan of one phase.</summary>
    public void Run(IOperationHost host) => Run(Main, host);
}
