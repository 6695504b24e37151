using System.Management.Automation;
using DmPowerShell.Monitoring;
using DmPowerShell.Pools;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>
/// Watch-ThinPool: waits for the pools' device-mapper events and checks them on a timer, writes
/// an event object for each threshold crossing, mode change, needs_check and extension, and
/// grows the module's pools as their autoextend policy says. Runs until Ctrl+C or -Timeout.
/// </summary>
[Cmdlet(VerbsCommon.Watch, "ThinPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = "Name")]
[OutputType(typeof(ThinPoolEvent))]
public sealed class WatchThinPoolCommand : DmCmdlet
{
    private readonly List<string> names = new();
    private readonly object gate = new();
    private PoolWatcher? watcher;
    private bool stopping;

    /// <summary>The module's pool names, or device-mapper names of other thin pools (reported on, never extended). None: every pool of the state root.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ParameterSetName = "Name")]
    [ArgumentCompleter(typeof(PoolNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Pools from Get-ThinPool or New-ThinPool.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "InputObject")]
    public ThinPool? InputObject { get; set; }

    /// <summary>Stop after this many seconds (as Wait-Job's -Timeout). Without it, watch until Ctrl+C.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Timeout { get; set; }

    /// <summary>Seconds between checks when no event comes (the metadata threshold is seen only by them). 10, as dmeventd.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int CheckInterval { get; set; } = 10;

    /// <summary>Writes the watched pools' metrics to this .prom file (as Export-PoolMetric) after every check.</summary>
    [Parameter]
    public string? MetricPath { get; set; }

    protected override string? PipedStateRoot => InputObject?.StateRoot;

    protected override void ProcessRecord()
    {
        if (InputObject is not null) names.Add(InputObject.Name);
        if (Name is not null) names.AddRange(Name);
    }

    protected override void EndProcessing()
    {
        var metrics = MetricPath is null ? null : GetUnresolvedProviderPathFromPSPath(MetricPath);
        if (metrics is not null)
        {
            TryOrStop(metrics, () => PoolMetricsExporter.Validate(metrics));
        }
        // Asked once (under -WhatIf it says so and writes nothing), not at every check.
        Action<IReadOnlyList<string>>? refresh = metrics is not null && ShouldProcess(metrics, "Write the watched pools' metrics after every check")
            ? watched => new PoolMetricsExporter(Pools).Write(metrics, watched)
            : null;
        var current = new PoolWatcher(Pools);
        lock (gate)
        {
            if (stopping) return;
            watcher = current;
        }
        // SIGTERM (systemd's stop) and SIGINT end the watch after the step in progress, however pwsh was started.
        using var signals = new StopSignals(current.Stop);
        // Under systemd each event is also a journal entry with its own fields (journalctl POOL_EVENT=Extended).
        using var journal = JournalSink.FromEnvironment();
        TryOrStop(names.Count == 1 ? names[0] : null, () => current.Run(
            names.Count == 0 ? null : names,
            Timeout is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
            TimeSpan.FromSeconds(CheckInterval),
            e =>
            {
                WriteObject(e);
                journal?.Send(e);
            },
            OperationHost,
            refresh));
        if (signals.Received is { } signal)
        {
            WriteVerbose($"stopped by {signal}");
        }
    }

    protected override void StopProcessing()
    {
        lock (gate)
        {
            stopping = true;
            watcher?.Stop();
        }
    }
}
