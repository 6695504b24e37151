using System.Management.Automation;
using DmPowerShell.Volumes;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Compare-ThinVolume: the ranges where two volumes of a pool differ, read from the pool's metadata (thin_delta).</summary>
[Cmdlet(VerbsData.Compare, "ThinVolume", DefaultParameterSetName = ByName)]
[OutputType(typeof(VolumeDifference), typeof(VolumeComparison))]
public sealed class CompareThinVolumeCommand : DmCmdlet
{
    private const string ByName = "Name";
    private const string ByObject = "InputObject";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName)]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    public string Pool { get; set; } = "";

    /// <summary>The volume compared against: usually the older snapshot.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ArgumentCompleter(typeof(VolumeNameCompleter))]
    public string Reference { get; set; } = "";

    /// <summary>The volume compared: usually the newer one.</summary>
    [Parameter(Mandatory = true, Position = 2, ParameterSetName = ByName)]
    [ArgumentCompleter(typeof(VolumeNameCompleter))]
    public string Difference { get; set; } = "";

    /// <summary>The volume compared, piped in (from Get-ThinVolume or New-ThinSnapshot); -Reference names one of its pool.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByObject, ValueFromPipeline = true)]
    public ThinVolume? InputObject { get; set; }

    /// <summary>One object with the ranges and their byte counts, instead of one object per range.</summary>
    [Parameter]
    public SwitchParameter Summary { get; set; }

    protected override string? PipedStateRoot => InputObject?.StateRoot;

    protected override void ProcessRecord()
    {
        var pool = InputObject?.Pool ?? Pool;
        var difference = InputObject?.Name ?? Difference;
        Try(difference, () =>
        {
            var comparison = Volumes.Compare(pool, Reference, difference);
            if (Summary) WriteObject(comparison);
            else WriteObject(comparison.Ranges, enumerateCollection: true);
        });
    }
}
