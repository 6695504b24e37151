using System.Management.Automation;
using DmPowerShell.Pools;
using DmPowerShell.Volumes;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Get-ThinVolume: volumes and snapshots with their chain, live state and usage.</summary>
[Cmdlet(VerbsCommon.Get, "ThinVolume", DefaultParameterSetName = ByName)]
[OutputType(typeof(ThinVolume))]
public sealed class GetThinVolumeCommand : DmCmdlet
{
    private const string ByName = "Pool";
    private const string ByObject = "InputObject";

    /// <summary>Volume names; wildcards allowed. Never bound from the pipeline, so a pool's name never lands here.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(VolumeNameCompleter))]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = ByName)]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    public string[]? Pool { get; set; }

    /// <summary>Pools from Get-ThinPool or New-ThinPool.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ByObject, ValueFromPipeline = true)]
    public ThinPool? InputObject { get; set; }

    /// <summary>Only the direct snapshots of this volume.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(VolumeNameCompleter))]
    public string? Origin { get; set; }

    /// <summary>
    /// Also read what each volume maps alone and shares (ExclusiveBytes, SharedBytes), and what
    /// inactive ones map, from the pool's metadata: thin_ls through a metadata snapshot, one run
    /// per pool, waiting for the pool's lock.
    /// </summary>
    [Parameter]
    public SwitchParameter Usage { get; set; }

    protected override string? PipedStateRoot => InputObject?.StateRoot;

    protected override void ProcessRecord()
    {
        var patterns = Name?.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
        Func<string, bool>? filter = patterns is null ? null : n => patterns.Any(p => p.IsMatch(n));
        var pools = InputObject is not null ? new string?[] { InputObject.Name } : Pool?.Cast<string?>().ToArray() ?? new string?[] { null };
        foreach (var pool in pools)
        {
            Try(pool, () =>
            {
                // Exact names in a named pool: only their records are read (the index of names).
                var exact = pool is not null && Origin is null && !Usage && Name is { Length: > 0 } && !Name.Any(WildcardPattern.ContainsWildcardCharacters)
                    ? Volumes.GetExact(pool, Name)
                    : null;
                var found = exact ?? Volumes.List(pool, filter, Origin, Usage);
                WriteObject(found, enumerateCollection: true);
                if (found.Count == 0 && Name is not null)
                {
                    foreach (var literal in Name.Where(n => !WildcardPattern.ContainsWildcardCharacters(n)))
                    {
                        WriteError(ErrorMapping.ToErrorRecord(new DmPowerShellException(ErrorIds.VolumeNotFound, ErrorKind.NotFound,
                            $"No volume named '{literal}'{(pool is null ? "" : $" in pool '{pool}'")}.", literal), literal));
                    }
                }
            });
        }
    }
}
