using System.Management.Automation;
using DmPowerShell.Pools;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Remove-ThinPool: deactivates a pool and deletes its record; its files only when asked.</summary>
[Cmdlet(VerbsCommon.Remove, "ThinPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = ByObject)]
[OutputType(typeof(ThinPool))]
public sealed class RemoveThinPoolCommand : PoolCmdlet
{
    /// <summary>Every pool of the state root, with its volumes (implies -DeactivateVolumes): a test's teardown in one call.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "All")]
    public SwitchParameter All { get; set; }

    /// <summary>Deactivate the pool's active thin volumes first, instead of refusing.</summary>
    [Parameter]
    public SwitchParameter DeactivateVolumes { get; set; }

    /// <summary>Loop mode: delete the sparse data and metadata files (all data in the pool).</summary>
    [Parameter]
    public SwitchParameter DeleteBackingFiles { get; set; }

    /// <summary>Skip the confirmation (the change itself is the same).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        SkipConfirmationWhen(Force);
        var names = Array.Empty<string>();
        TryOrStop(null, () => names = All ? Registry.ListPools().Select(p => p.Name).ToArray() : TargetPools.ToArray());
        foreach (var name in names)
        {
            Try(name, () =>
            {
                var before = PassThru ? Pools.Get(name) : null;
                if (Pools.Remove(name, DeactivateVolumes || All, DeleteBackingFiles, OperationHost) && before is not null)
                {
                    WriteObject(before with { Active = false, Device = null, DataDevice = null, MetadataDevice = null });
                }
            });
        }
    }
}
