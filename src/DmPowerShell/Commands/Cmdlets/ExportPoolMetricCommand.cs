using System.Management.Automation;
using DmPowerShell.Monitoring;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>
/// Export-PoolMetric: the pools' figures (Get-PoolStatus) as a Prometheus text file for
/// node_exporter's textfile collector, written whole (temporary file, then rename).
/// </summary>
[Cmdlet(VerbsData.Export, "PoolMetric", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(FileInfo))]
public sealed class ExportPoolMetricCommand : DmCmdlet
{
    private readonly List<string> names = new();

    /// <summary>The module's pool names or device-mapper names of other thin pools. None: every thin pool on the host and every recorded pool.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>The file to write; its name ends in .prom, in the collector's folder (Debian: /var/lib/prometheus/node-exporter).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    public string Path { get; set; } = "";

    /// <summary>Returns the file written.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (Name is not null) names.AddRange(Name);
    }

    protected override void EndProcessing()
    {
        var path = GetUnresolvedProviderPathFromPSPath(Path);
        var which = names.Count == 0 ? "every pool" : string.Join(", ", names);
        TryOrStop(path, () =>
        {
            PoolMetricsExporter.Validate(path);
            if (!ShouldProcess(path, $"Export the metrics of {which}"))
            {
                return;
            }
            new PoolMetricsExporter(Pools).Write(path, names);
            if (PassThru)
            {
                WriteObject(new FileInfo(path));
            }
        });
    }
}
