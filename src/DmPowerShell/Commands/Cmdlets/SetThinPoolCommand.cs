using System.Management.Automation;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Set-ThinPool: a pool's policies (autoextend, minimum free space, no-space behaviour).</summary>
[Cmdlet(VerbsCommon.Set, "ThinPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByObject)]
[OutputType(typeof(ThinPool))]
public sealed class SetThinPoolCommand : PoolCmdlet
{
    /// <summary>Percent of the data space used at which it grows; 100 turns data autoextend off.</summary>
    [Parameter]
    [ValidateRange(50, 100)]
    public int? AutoextendThreshold { get; set; }

    /// <summary>Each data extension, as a percent of the current size.</summary>
    [Parameter]
    [ValidateRange(1, 100)]
    public int? AutoextendPercent { get; set; }

    /// <summary>Each data extension, as a size (replaces -AutoextendPercent).</summary>
    [Parameter]
    [SizeTransformation]
    public long? AutoextendSize { get; set; }

    /// <summary>The data space never grows past this.</summary>
    [Parameter]
    [SizeTransformation]
    public long? MaximumDataSize { get; set; }

    /// <summary>Percent of the metadata space used at which it grows; 100 turns metadata autoextend off.</summary>
    [Parameter]
    [ValidateRange(50, 100)]
    public int? MetadataAutoextendThreshold { get; set; }

    /// <summary>Each metadata extension, as a percent of the current size.</summary>
    [Parameter]
    [ValidateRange(1, 100)]
    public int? MetadataAutoextendPercent { get; set; }

    /// <summary>Each metadata extension, as a size (replaces -MetadataAutoextendPercent).</summary>
    [Parameter]
    [SizeTransformation]
    public long? MetadataAutoextendSize { get; set; }

    /// <summary>The metadata space never grows past this.</summary>
    [Parameter]
    [SizeTransformation]
    public long? MaximumMetadataSize { get; set; }

    /// <summary>New volumes and snapshots are refused below this share of free data or metadata space.</summary>
    [Parameter]
    [ValidateRange(0, 99)]
    public int? MinimumFreeSpacePercent { get; set; }

    /// <summary>What writes do when the data space is full: wait (Queue, up to the kernel's timeout) or fail at once (Error).</summary>
    [Parameter]
    public NoSpacePolicy? NoSpacePolicy { get; set; }

    /// <summary>Return the pool.</summary>
    /// <summary>A container runtime (Docker, Containerd) now drives the pool's thin ids: the module leaves them alone. None takes the pool back.</summary>
    [Parameter]
    public Registry.PoolRuntime? HandedTo { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var change = new PoolPolicyChange
        {
            DataThresholdPercent = AutoextendThreshold,
            DataStepPercent = AutoextendPercent,
            DataStepBytes = AutoextendSize,
            DataMaximumSize = MaximumDataSize,
            MetadataThresholdPercent = MetadataAutoextendThreshold,
            MetadataStepPercent = MetadataAutoextendPercent,
            MetadataStepBytes = MetadataAutoextendSize,
            MetadataMaximumSize = MaximumMetadataSize,
            MinimumFreeSpacePercent = MinimumFreeSpacePercent,
            NoSpacePolicy = NoSpacePolicy,
            HandedTo = HandedTo,
        };
        foreach (var name in TargetPools)
        {
            Try(name, () =>
            {
                if (Pools.SetPolicies(name, change, OperationHost) is { } pool && PassThru)
                {
                    WriteObject(pool);
                }
            });
        }
    }
}
