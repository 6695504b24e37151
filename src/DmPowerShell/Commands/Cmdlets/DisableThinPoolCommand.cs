using System.Management.Automation;
using DmPowerShell.Pools;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Disable-ThinPool: deactivates a pool, keeping its files (or devices) and record.</summary>
[Cmdlet(VerbsLifecycle.Disable, "ThinPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByObject)]
[OutputType(typeof(ThinPool))]
public sealed class DisableThinPoolCommand : PoolCmdlet
{
    /// <summary>Deactivate the pool's active thin volumes first, instead of refusing.</summary>
    [Parameter]
    public SwitchParameter DeactivateVolumes { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var name in TargetPools)
        {
            Try(name, () =>
            {
                if (Pools.Disable(name, DeactivateVolumes, OperationHost) && PassThru)
                {
                    WriteObject(Pools.Get(name));
                }
            });
        }
    }
}
