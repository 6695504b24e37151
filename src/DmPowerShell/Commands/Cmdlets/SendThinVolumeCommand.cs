using System.Management.Automation;
using System.Management.Automation.Runspaces;
using DmPowerShell.Volumes;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>
/// Send-ThinVolume: Export-ThinVolume here, the stream copied over PowerShell remoting
/// (Copy-Item -ToSession), Import-ThinVolume there, temporary files removed on both sides.
/// </summary>
[Cmdlet(VerbsCommunications.Send, "ThinVolume", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = ByObject)]
[OutputType(typeof(ThinVolume))]
public sealed class SendThinVolumeCommand : VolumeCmdlet
{
    // Fixed text: the values travel as arguments, never inside the script.
    private const string Transfer = """
        param($Session, $LocalPath, $Pool, $Name, $Base, $StateRoot)
        $remotePath = Invoke-Command -Session $Session -ErrorAction Stop {
            [IO.Path]::Combine([IO.Path]::GetTempPath(), 'dmps-receive-' + [guid]::NewGuid().ToString('N') + '.stream')
        }
        try {
            Copy-Item -LiteralPath $LocalPath -Destination $remotePath -ToSession $Session -ErrorAction Stop
            Invoke-Command -Session $Session -ErrorAction Stop -ArgumentList $remotePath, $Pool, $Name, $Base, $StateRoot {
                param($path, $pool, $name, $base, $root)
                $arguments = @{ Pool = $pool; Name = $name; Path = $path; ErrorAction = 'Stop' }
                if ($base) { $arguments.Base = $base }
                if ($root) { $arguments.StateRoot = $root }
                Import-ThinVolume @arguments
            }
        }
        finally {
            Invoke-Command -Session $Session -ArgumentList $remotePath { param($path) Remove-Item -LiteralPath $path -Force -ErrorAction SilentlyContinue }
        }
        """;

    /// <summary>The receiving host's session (New-PSSession -HostName / -SSHConnection); it needs the module.</summary>
    [Parameter(Mandatory = true)]
    public PSSession? Session { get; set; }

    /// <summary>An older snapshot of the volume that the receiving host received before: only the changes since it are sent.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(VolumeNameCompleter))]
    public string? Since { get; set; }

    /// <summary>The receiving pool (default: a pool of the same name there).</summary>
    [Parameter]
    public string? DestinationPool { get; set; }

    /// <summary>The new volume's name there (default: the volume's name).</summary>
    [Parameter]
    public string? DestinationName { get; set; }

    /// <summary>There: the volume that received the base of an incremental stream (found by identity when not given).</summary>
    [Parameter]
    public string? Base { get; set; }

    /// <summary>The receiving host's registry folder (default: its own default).</summary>
    [Parameter]
    public string? DestinationStateRoot { get; set; }

    protected override void ProcessRecord() => Try(TargetName, () =>
    {
        var pool = DestinationPool ?? TargetPool;
        var name = DestinationName ?? TargetName;
        var kind = Since is null ? "a full stream" : $"the changes since '{Since}'";
        if (!ShouldProcess($"thin volume '{TargetName}' in pool '{TargetPool}'", $"Send {kind} to '{name}' in pool '{pool}' on {Session!.ComputerName}"))
        {
            return;
        }
        var local = Path.Combine(Path.GetTempPath(), $"dmps-send-{Guid.NewGuid():N}.stream");
        try
        {
            var summary = Volumes.ExportToFile(TargetPool, TargetName, Since, local, OperationHost);
            WriteVerbose($"exported {summary.Records} records ({summary.DataBytes} data bytes, {summary.StreamBytes} stream bytes) to {local}; copying to {Session.ComputerName}");
            var results = SessionState.InvokeCommand.InvokeScript(SessionState, ScriptBlock.Create(Transfer), Session, local, pool, name, Base, DestinationStateRoot);
            foreach (var result in results) WriteObject(result);
        }
        catch (RuntimeException e) when (e.ErrorRecord is { } remote)
        {
            // The receiving side's error, with its id, category and host.
            WriteError(remote);
        }
        finally
        {
            File.Delete(local);
        }
    });
}
