using System.Management.Automation;
using DmPowerShell.Volumes;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Restore-ThinVolume: takes a volume back to one of its snapshots; the snapshot stays, the old content is kept unless -Discard.</summary>
[Cmdlet(VerbsData.Restore, "ThinVolume", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByObject)]
[OutputType(typeof(ThinVolume))]
public sealed class RestoreThinVolumeCommand : VolumeCmdlet
{
    [Parameter(Mandatory = true, Position = 2)]
    [ArgumentCompleter(typeof(VolumeNameCompleter))]
    public string Snapshot { get; set; } = "";

    /// <summary>Delete the volume's current content instead of keeping it as a snapshot.</summary>
    [Parameter]
    public SwitchParameter Discard { get; set; }

    /// <summary>The name the current content is kept under (default: &lt;name&gt;.before-restore).</summary>
    [Parameter]
    public string? KeepAs { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Change the thin ids of a pool handed to a container runtime all the same (its bookkeeping may break).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override bool OverrideHandover => Force;

    protected override void ProcessRecord() => Try(TargetName, () =>
    {
        if (Discard && KeepAs is not null)
        {
            throw new DmPowerShellException(ErrorIds.InvalidSetting, ErrorKind.InvalidArgument, "-Discard deletes the current content and -KeepAs names it: give one of them.", KeepAs);
        }
        if (Volumes.Restore(TargetPool, TargetName, Snapshot, Discard, KeepAs, OperationHost) is { } volume && PassThru)
        {
            WriteObject(volume);
        }
    });
}
