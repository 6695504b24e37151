using System.Management.Automation;
using DmPowerShell.Pools;

namespace DmPowerShell.Commands;

/// <summary>
/// Cmdlets that act on existing pools: named by -Name (or piped names), or piped in as ThinPool
/// objects, which bind by value and bring their state root along. Deserialized pools (remoting,
/// Import-Clixml) bind by their Name and StateRoot properties.
/// </summary>
public abstract class PoolCmdlet : DmCmdlet
{
    protected const string ByName = "Name";
    protected const string ByObject = "InputObject";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>Pools from Get-ThinPool or New-ThinPool.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByObject, ValueFromPipeline = true)]
    public ThinPool? InputObject { get; set; }

    protected override string? PipedStateRoot => InputObject?.StateRoot;

    /// <summary>The pools this record of input names.</summary>
    protected IEnumerable<string> TargetPools => InputObject is not null ? new[] { InputObject.Name } : Name;
}
