using System.Management.Automation;
using DmPowerShell.Health;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Test-ThinPool: compares the registry, the live devices and the pool's own metadata, and reports each disagreement.</summary>
[Cmdlet(VerbsDiagnostic.Test, "ThinPool", DefaultParameterSetName = ByObject)]
[OutputType(typeof(PoolProblem), typeof(bool))]
public sealed class TestThinPoolCommand : PoolCmdlet
{
    /// <summary>Return $true when the pool has no problem, $false otherwise, instead of the problems.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var name in TargetPools)
        {
            Try(name, () =>
            {
                var problems = new PoolHealthService(Pools).Test(name);
                if (Quiet)
                {
                    WriteObject(problems.All(p => p.Kind == ProblemKind.Inactive));
                }
                else
                {
                    WriteObject(problems, enumerateCollection: true);
                }
            });
        }
    }
}
