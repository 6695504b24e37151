using System.Management.Automation;
using DmPowerShell.Streams;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Export-ThinVolume: a volume as a stream (full, or -Since a snapshot) into a file, or to standard output.</summary>
[Cmdlet(VerbsData.Export, "ThinVolume", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ByObject)]
[OutputType(typeof(VolumeStreamSummary))]
public sealed class ExportThinVolumeCommand : VolumeCmdlet
{
    /// <summary>The file to write; without it the stream goes to standard output (and no object is written).</summary>
    [Parameter(Position = 2)]
    public string? Path { get; set; }

    /// <summary>An older snapshot of the volume: only what changed since it is written.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(VolumeNameCompleter))]
    public string? Since { get; set; }

    protected override void ProcessRecord() => Try(TargetName, () =>
    {
        var kind = Since is null ? "a full stream" : $"the changes since '{Since}'";
        if (Path is null)
        {
            if (!ShouldProcess($"thin volume '{TargetName}' in pool '{TargetPool}'", $"Export {kind} to standard output")) return;
            using var stdout = Console.OpenStandardOutput();
            Volumes.Export(TargetPool, TargetName, Since, stdout, null, OperationHost);
            return;
        }
        var path = GetUnresolvedProviderPathFromPSPath(Path);
        if (!ShouldProcess(path, $"Export {kind} of thin volume '{TargetName}' in pool '{TargetPool}'")) return;
        WriteObject(Volumes.ExportToFile(TargetPool, TargetName, Since, path, OperationHost));
    });
}
