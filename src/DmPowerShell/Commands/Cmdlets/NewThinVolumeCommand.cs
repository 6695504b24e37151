using System.Management.Automation;
using DmPowerShell.Pools;
using DmPowerShell.Units;
using DmPowerShell.Volumes;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>New-ThinVolume: a thin device of a virtual size in a pool (the guide's base device).</summary>
[Cmdlet(VerbsCommon.New, "ThinVolume", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ByObject)]
[OutputType(typeof(ThinVolume))]
public sealed class NewThinVolumeCommand : DmCmdlet
{
    private const string ByName = "Pool";
    private const string ByObject = "InputObject";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    public string Pool { get; set; } = "";

    /// <summary>A pool from New-ThinPool or Get-ThinPool.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByObject, ValueFromPipeline = true)]
    public ThinPool? InputObject { get; set; }

    [Parameter(Mandatory = true, Position = 1)]
    public string Name { get; set; } = "";

    /// <summary>Virtual size. Default 10GB, docker's base device size.</summary>
    [Parameter]
    [SizeTransformation]
    public long Size { get; set; } = 10 * ByteSize.GiB;

    [Parameter]
    [ValidateSet("ext4", "xfs")]
    public string? FileSystem { get; set; }

    /// <summary>Create the thin device without activating it.</summary>
    [Parameter]
    public SwitchParameter Inactive { get; set; }

    protected override string? PipedStateRoot => InputObject?.StateRoot;

    /// <summary>Change the thin ids of a pool handed to a container runtime all the same (its bookkeeping may break).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override bool OverrideHandover => Force;

    protected override void ProcessRecord()
    {
        var pool = InputObject?.Name ?? Pool;
        Try(Name, () =>
        {
            if (Inactive && FileSystem is not null)
            {
                throw PoolRules.Invalid(ErrorIds.InvalidSetting, "-FileSystem needs an active volume; leave out -Inactive.", Name);
            }
            if (Volumes.Create(pool, Name, Size, FileSystem, !Inactive, OperationHost) is { } volume)
            {
                WriteObject(volume);
            }
        });
    }
}
