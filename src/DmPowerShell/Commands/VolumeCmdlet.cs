using System.Management.Automation;
using DmPowerShell.Volumes;

namespace DmPowerShell.Commands;

/// <summary>
/// Cmdlets that act on existing volumes: named by -Pool and -Name, or piped in as ThinVolume
/// objects (from Get-ThinVolume, New-ThinVolume, New-ThinSnapshot), which bind by value. A
/// volume deserialized from another session (remoting, Import-Clixml) is no longer the type: it
/// binds by its Pool and Name properties instead.
/// </summary>
public abstract class VolumeCmdlet : DmCmdlet
{
    protected const string ByName = "Name";
    protected const string ByObject = "InputObject";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    public string Pool { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ByName, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(VolumeNameCompleter))]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ByObject, ValueFromPipeline = true)]
    public ThinVolume? InputObject { get; set; }

    protected override string? PipedStateRoot => InputObject?.StateRoot;

    protected string TargetPool => InputObject?.Pool ?? Pool;

    protected string TargetName => InputObject?.Name ?? Name;
}
