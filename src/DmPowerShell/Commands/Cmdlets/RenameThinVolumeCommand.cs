using System.Management.Automation;
using DmPowerShell.Volumes;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Rename-ThinVolume: renames the volume and its dm device.</summary>
[Cmdlet(VerbsCommon.Rename, "ThinVolume", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByObject)]
[OutputType(typeof(ThinVolume))]
public sealed class RenameThinVolumeCommand : VolumeCmdlet
{
    [Parameter(Mandatory = true, Position = 2)]
    public string NewName { get; set; } = "";

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => Try(TargetName, () =>
    {
        if (Volumes.Rename(TargetPool, TargetName, NewName, OperationHost) is { } volume && PassThru)
        {
            WriteObject(volume);
        }
    });
}
