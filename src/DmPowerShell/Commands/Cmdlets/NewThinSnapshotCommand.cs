using System.Management.Automation;
using DmPowerShell.Volumes;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>
/// New-ThinSnapshot: copy-on-write snapshots of a volume or snapshot, to any depth. Several
/// names make several snapshots while the origin is suspended once.
/// </summary>
[Cmdlet(VerbsCommon.New, "ThinSnapshot", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ByObject)]
[OutputType(typeof(ThinVolume))]
public sealed class NewThinSnapshotCommand : DmCmdlet
{
    private const string ByName = "Origin";
    private const string ByObject = "InputObject";

    [Parameter(Mandatory = true, ParameterSetName = ByName)]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    public string Pool { get; set; } = "";

    /// <summary>The volume or snapshot to snapshot.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByName)]
    [ArgumentCompleter(typeof(VolumeNameCompleter))]
    public string Origin { get; set; } = "";

    /// <summary>The origin, from Get-ThinVolume, New-ThinVolume or New-ThinSnapshot.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByObject, ValueFromPipeline = true)]
    public ThinVolume? InputObject { get; set; }

    /// <summary>One name per snapshot.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>Create the snapshots without activating them.</summary>
    [Parameter]
    public SwitchParameter Inactive { get; set; }

    [Parameter]
    public SwitchParameter ReadOnly { get; set; }

    protected override string? PipedStateRoot => InputObject?.StateRoot;

    /// <summary>Change the thin ids of a pool handed to a container runtime all the same (its bookkeeping may break).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override bool OverrideHandover => Force;

    protected override void ProcessRecord()
    {
        var pool = InputObject?.Pool ?? Pool;
        var origin = InputObject?.Name ?? Origin;
        Try(origin, () => WriteObject(Volumes.Snapshot(pool, origin, Name, !Inactive, ReadOnly, OperationHost), enumerateCollection: true));
    }
}
