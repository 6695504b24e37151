using System.Management.Automation;
using DmPowerShell.Volumes;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Import-ThinVolume: a stream from Export-ThinVolume, as a new volume (full) or a new snapshot of the volume that received its base (incremental).</summary>
[Cmdlet(VerbsData.Import, "ThinVolume", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ThinVolume))]
public sealed class ImportThinVolumeCommand : DmCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    public string Pool { get; set; } = "";

    /// <summary>The new volume's name.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    public string Name { get; set; } = "";

    /// <summary>The stream's file; without it the stream is read from standard input.</summary>
    [Parameter(Position = 2)]
    public string? Path { get; set; }

    /// <summary>For an incremental stream: the volume that received its base (found by the stream's identity when not given).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(VolumeNameCompleter))]
    public string? Base { get; set; }

    /// <summary>Change the thin ids of a pool handed to a container runtime all the same (its bookkeeping may break).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override bool OverrideHandover => Force;

    protected override void ProcessRecord() => Try(Name, () =>
    {
        var path = Path is null ? null : GetUnresolvedProviderPathFromPSPath(Path);
        using var input = path is null ? Console.OpenStandardInput() : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20);
        if (Volumes.Import(Pool, Name, input, path ?? "standard input", Base, OperationHost) is not null
            && Volumes.GetExact(Pool, new[] { Name }) is [var volume])
        {
            WriteObject(volume);
        }
    });
}
