using System.Management.Automation;
using DmPowerShell.Pools;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Get-ThinPool: the pools in the registry, with their live state.</summary>
[Cmdlet(VerbsCommon.Get, "ThinPool")]
[OutputType(typeof(ThinPool))]
public sealed class GetThinPoolCommand : DmCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        TryOrStop(Name, () =>
        {
            var pools = Pools.List();
            if (Name is null)
            {
                WriteObject(pools, enumerateCollection: true);
                return;
            }
            foreach (var name in Name)
            {
                var pattern = new WildcardPattern(name, WildcardOptions.None);
                var matches = pools.Where(p => pattern.IsMatch(p.Name)).ToList();
                if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                {
                    Try(name, () => Pools.Require(name));
                }
                WriteObject(matches, enumerateCollection: true);
            }
        });
    }
}
