using System.Management.Automation;
using DmPowerShell.Volumes;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Enable-ThinVolume: activates a volume's dm device (optionally read-only).</summary>
[Cmdlet(VerbsLifecycle.Enable, "ThinVolume", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ByObject)]
[OutputType(typeof(ThinVolume))]
public sealed class EnableThinVolumeCommand : VolumeCmdlet
{
    [Parameter]
    public SwitchParameter ReadOnly { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => Try(TargetName, () =>
    {
        if (Volumes.Enable(TargetPool, TargetName, ReadOnly, OperationHost) is { } volume && PassThru)
        {
            WriteObject(volume);
        }
    });
}
