using System.Management.Automation;
using DmPowerShell.Pools;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Get-ThinPool: the pools in the registry, with their live state; -Tree draws each as a device tree.</summary>
[Cmdlet(VerbsCommon.Get, "ThinPool", DefaultParameterSetName = PoolSet)]
[OutputType(typeof(ThinPool), ParameterSetName = new[] { PoolSet })]
[OutputType(typeof(PoolTreeNode), ParameterSetName = new[] { TreeSet })]
public sealed class GetThinPoolCommand : DmCmdlet
{
    private const string PoolSet = "Pool";
    private const string TreeSet = "Tree";

    [Parameter(Position = 0, ValueFromPipeline = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Rows of an lsblk-like tree: the pool, its data and metadata, its volumes by snapshot chain.</summary>
    [Parameter(Mandatory = true, ParameterSetName = TreeSet)]
    public SwitchParameter Tree { get; set; }

    protected override void ProcessRecord()
    {
        TryOrStop(Name, () =>
        {
            var pools = Pools.List();
            var selected = new List<ThinPool>();
            if (Name is null)
            {
                selected.AddRange(pools);
            }
            foreach (var name in Name ?? Array.Empty<string>())
            {
                var pattern = new WildcardPattern(name, WildcardOptions.None);
                var matches = pools.Where(p => pattern.IsMatch(p.Name)).ToList();
                if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                {
                    Try(name, () => Pools.Require(name));
                }
                selected.AddRange(matches);
            }
            foreach (var pool in selected)
            {
                if (Tree)
                {
                    Try(pool.Name, () => WriteObject(PoolTree.Build(pool, Volumes.List(pool.Name)), enumerateCollection: true));
                }
                else
                {
                    WriteObject(pool);
                }
            }
        });
    }
}
