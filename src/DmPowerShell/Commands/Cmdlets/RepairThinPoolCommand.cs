using System.Management.Automation;
using DmPowerShell.Health;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>
/// Repair-ThinPool: fixes what Test-ThinPool finds, one ShouldProcess per fix. It adopts what it
/// finds and deletes data only with -DeleteUnrecorded, after a second confirmation.
/// </summary>
[Cmdlet(VerbsDiagnostic.Repair, "ThinPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByObject)]
[OutputType(typeof(PoolRepair))]
public sealed class RepairThinPoolCommand : PoolCmdlet
{
    /// <summary>Delete thin ids that have no record (and that this module handed out) instead of adopting them.</summary>
    [Parameter]
    public SwitchParameter DeleteUnrecorded { get; set; }

    /// <summary>Skip the second confirmation before -DeleteUnrecorded destroys data; overwrite a spare device that carries a signature.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>For a pool on block devices: the free block device that receives the repaired metadata.</summary>
    [Parameter]
    public string? SpareDevice { get; set; }

    protected override void ProcessRecord()
    {
        SkipExtraConfirmation = Force;
        foreach (var name in TargetPools)
        {
            Try(name, () => WriteObject(new PoolHealthService(Pools).Repair(name, DeleteUnrecorded, OperationHost, SpareDevice, Force), enumerateCollection: true));
        }
    }
}
