using System.Management.Automation;
using DmPowerShell.Pools;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Get-PoolStatus: what `docker info` shows for a pool, and the kernel's status line, typed.</summary>
[Cmdlet(VerbsCommon.Get, "PoolStatus", DefaultParameterSetName = "Name")]
[OutputType(typeof(PoolStatus))]
public sealed class GetPoolStatusCommand : DmCmdlet
{
    /// <summary>Pool names from the registry, or device-mapper names of any thin pool (LVM's, docker's).</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = "Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Pools from Get-ThinPool or New-ThinPool.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "InputObject")]
    public ThinPool? InputObject { get; set; }

    protected override string? PipedStateRoot => InputObject?.StateRoot;

    protected override void ProcessRecord()
    {
        var reader = new PoolStatusReader(Pools);
        if (InputObject is not null)
        {
            Try(InputObject.Name, () => WriteObject(reader.Read(InputObject.Name)));
            return;
        }
        if (Name is null)
        {
            TryOrStop(null, () => WriteObject(reader.ReadAll(), enumerateCollection: true));
            return;
        }
        foreach (var name in Name)
        {
            if (WildcardPattern.ContainsWildcardCharacters(name))
            {
                var pattern = new WildcardPattern(name, WildcardOptions.None);
                TryOrStop(name, () => WriteObject(
                    reader.ReadAll().Where(s => pattern.IsMatch(s.PoolName) || (s.Name is not null && pattern.IsMatch(s.Name))),
                    enumerateCollection: true));
                continue;
            }
            Try(name, () => WriteObject(reader.Read(name)));
        }
    }
}
