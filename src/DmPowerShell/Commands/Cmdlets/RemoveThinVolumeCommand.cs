using System.Management.Automation;
using DmPowerShell.Volumes;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Remove-ThinVolume: deactivates and deletes a volume; its snapshots stay intact.</summary>
[Cmdlet(VerbsCommon.Remove, "ThinVolume", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = ByObject)]
[OutputType(typeof(ThinVolume))]
public sealed class RemoveThinVolumeCommand : VolumeCmdlet
{
    /// <summary>Skip the confirmation (the change itself is the same).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (Force && !MyInvocation.BoundParameters.ContainsKey("Confirm"))
        {
            SessionState.PSVariable.Set("ConfirmPreference", ConfirmImpact.None);
        }
        Try(TargetName, () =>
        {
            var before = PassThru ? Volumes.Get(TargetPool, TargetName) : null;
            if (Volumes.Remove(TargetPool, TargetName, OperationHost) && before is not null)
            {
                WriteObject(before with { Active = false, Device = null, MappedBytes = null, UsedPercent = null });
            }
        });
    }
}
