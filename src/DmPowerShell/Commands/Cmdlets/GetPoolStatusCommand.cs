using System.Management.Automation;
using DmPowerShell.Pools;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Get-PoolStatus: what `docker info` shows for a pool, and the kernel's status line, typed.</summary>
[Cmdlet(VerbsCommon.Get, "PoolStatus")]
[OutputType(typeof(PoolStatus))]
public sealed class GetPoolStatusCommand : DmCmdlet
{
    /// <summary>Pool names from the registry, or device-mapper names of any thin pool (LVM's, docker's).</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        var reader = new PoolStatusReader(Pools);
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
