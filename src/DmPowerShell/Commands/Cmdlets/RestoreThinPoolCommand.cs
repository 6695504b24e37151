using System.Management.Automation;
using DmPowerShell.Health;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>
/// Restore-ThinPool: an inactive pool's metadata and registry from an Export-ThinPool folder,
/// the previous metadata kept beside it. High impact: data written since the export is lost.
/// </summary>
[Cmdlet(VerbsData.Restore, "ThinPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(PoolBackup))]
public sealed class RestoreThinPoolCommand : DmCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Pool")]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    public string Name { get; set; } = "";

    /// <summary>The folder Export-ThinPool wrote.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    public string Path { get; set; } = "";

    /// <summary>Skip the confirmation (the change itself is the same); overwrite a spare device that carries a signature.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>For a pool on block devices: the free block device that receives the restored metadata.</summary>
    [Parameter]
    public string? SpareDevice { get; set; }

    protected override void ProcessRecord()
    {
        SkipConfirmationWhen(Force);
        var folder = GetUnresolvedProviderPathFromPSPath(Path);
        Try(Name, () =>
        {
            if (new PoolBackupService(Pools).Restore(Name, folder, OperationHost, SpareDevice, Force) is { } backup)
            {
                WriteObject(backup);
            }
        });
    }
}
