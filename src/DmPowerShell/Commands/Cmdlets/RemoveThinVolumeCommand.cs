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

    /// <summary>
    /// When the device is busy, let the kernel remove it once its last user closes it (deferred
    /// removal), and delete the volume then (deferred deletion), as docker's dm.use_deferred_* did.
    /// </summary>
    [Parameter]
    public SwitchParameter Deferred { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private int removed;

    protected override bool OverrideHandover => Force;

    protected override void ProcessRecord()
    {
        SkipConfirmationWhen(Force);
        // Piped volumes arrive one by one, their number unknown: the bar counts them.
        WriteProgress(new ProgressRecord(ProgressId, "Removing thin volumes", $"'{TargetName}' in pool '{TargetPool}' ({removed} removed so far)"));
        Try(TargetName, () =>
        {
            var before = PassThru ? Volumes.Get(TargetPool, TargetName) : null;
            if (Volumes.Remove(TargetPool, TargetName, OperationHost, Deferred) && before is not null)
            {
                WriteObject(before with { Active = false, Device = null, MappedBytes = null, UsedPercent = null });
            }
            removed++;
        });
    }

    protected override void EndProcessing() =>
        WriteProgress(new ProgressRecord(ProgressId, "Removing thin volumes", $"{removed} removed") { RecordType = ProgressRecordType.Completed });

    private const int ProgressId = 0x6d7276;
}
