using System.Management.Automation;
using DmPowerShell.Volumes;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Disable-ThinVolume: removes a volume's dm device; the volume and its data stay.</summary>
[Cmdlet(VerbsLifecycle.Disable, "ThinVolume", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByObject)]
[OutputType(typeof(ThinVolume))]
public sealed class DisableThinVolumeCommand : VolumeCmdlet
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => Try(TargetName, () =>
    {
        if (Volumes.Disable(TargetPool, TargetName, OperationHost) && PassThru)
        {
            WriteObject(Volumes.Get(TargetPool, TargetName));
        }
    });
}
