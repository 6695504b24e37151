using System.Management.Automation;
using DmPowerShell.Pools;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Enable-ThinPool: activates recorded pools again (after a reboot or Disable-ThinPool).</summary>
[Cmdlet(VerbsLifecycle.Enable, "ThinPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ByName)]
[OutputType(typeof(ThinPool))]
public sealed class EnableThinPoolCommand : PoolCmdlet
{
    /// <summary>Every pool in the registry (what the boot-time unit runs).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "All")]
    public SwitchParameter All { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var names = Array.Empty<string>();
        TryOrStop(null, () => names = All ? Registry.ListPools().Select(p => p.Name).ToArray() : TargetPools.ToArray());
        foreach (var name in names)
        {
            Try(name, () =>
            {
                if (Pools.Enable(name, OperationHost) is { } pool && PassThru)
                {
                    WriteObject(pool);
                }
            });
        }
    }
}
