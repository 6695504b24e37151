using System.Management.Automation;
using DmPowerShell.Health;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Export-ThinPool: the pool's metadata (thin_dump XML) and its registry, into a folder.</summary>
[Cmdlet(VerbsData.Export, "ThinPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ByObject)]
[OutputType(typeof(PoolBackup))]
public sealed class ExportThinPoolCommand : PoolCmdlet
{
    /// <summary>The folder to write &lt;pool&gt;.metadata.xml and &lt;pool&gt;.registry.json into (created when missing).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    public string Path { get; set; } = "";

    protected override void ProcessRecord()
    {
        var folder = GetUnresolvedProviderPathFromPSPath(Path);
        foreach (var name in TargetPools)
        {
            Try(name, () =>
            {
                if (new PoolBackupService(Pools).Export(name, folder, OperationHost) is { } backup)
                {
                    WriteObject(backup);
                }
            });
        }
    }
}
