using System.Management.Automation;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>New-ThinPool: a thin pool on sparse loop files (default), on two block devices, or as an LVM thin-pool LV.</summary>
[Cmdlet(VerbsCommon.New, "ThinPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = LoopSet)]
[OutputType(typeof(ThinPool))]
public sealed class NewThinPoolCommand : DmCmdlet
{
    private const string LoopSet = "Loop";
    private const string DirectSet = "Direct";
    private const string LvmSet = "Lvm";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Name { get; set; } = "";

    /// <summary>Data space (loop mode, default 100GB; LVM mode, default 95% of the volume group).</summary>
    [Parameter(ParameterSetName = LoopSet)]
    [Parameter(ParameterSetName = LvmSet)]
    [SizeTransformation]
    public long? DataSize { get; set; }

    /// <summary>Metadata space (loop mode, default 2GB; LVM mode, default 1% of the volume group).</summary>
    [Parameter(ParameterSetName = LoopSet)]
    [Parameter(ParameterSetName = LvmSet)]
    [SizeTransformation]
    public long? MetadataSize { get; set; }

    /// <summary>LVM mode: the volume group, made from -PhysicalDevice when it does not exist.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LvmSet)]
    public string VolumeGroup { get; set; } = "";

    /// <summary>LVM mode: block devices that become physical volumes of the volume group.</summary>
    [Parameter(ParameterSetName = LvmSet)]
    public string[] PhysicalDevice { get; set; } = Array.Empty<string>();

    [Parameter(Mandatory = true, ParameterSetName = DirectSet)]
    public string DataDevice { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = DirectSet)]
    public string MetadataDevice { get; set; } = "";

    /// <summary>Direct and LVM mode: use devices that carry a file-system, LVM or partition signature.</summary>
    [Parameter(ParameterSetName = DirectSet)]
    [Parameter(ParameterSetName = LvmSet)]
    public SwitchParameter Force { get; set; }

    /// <summary>Autoextend at this percent used (50 to 100; 100 is off). LVM mode writes it into the pool's profile (default 80).</summary>
    [Parameter]
    public int? AutoextendThreshold { get; set; }

    /// <summary>Each autoextend step, in percent of the current size (LVM mode default 20).</summary>
    [Parameter]
    public int? AutoextendPercent { get; set; }

    [Parameter]
    [SizeTransformation]
    public long BlockSize { get; set; } = PoolSpec.DefaultBlockSize;

    // The guide's LVM chunk size when -BlockSize is not given.
    private long EffectiveBlockSize => ParameterSetName == LvmSet && !MyInvocation.BoundParameters.ContainsKey(nameof(BlockSize)) ? Lvm.LvmPoolPlan.DefaultChunkSize : BlockSize;

    [Parameter]
    public long? LowWaterMark { get; set; }

    [Parameter]
    public SwitchParameter SkipBlockZeroing { get; set; }

    [Parameter]
    public DiscardMode DiscardMode { get; set; } = DiscardMode.Passdown;

    [Parameter]
    public NoSpacePolicy NoSpacePolicy { get; set; } = NoSpacePolicy.Queue;

    [Parameter]
    public int MinimumFreeSpacePercent { get; set; } = 10;

    protected override void ProcessRecord()
    {
        Try(Name, () =>
        {
            if (LowWaterMark is < 0)
            {
                throw PoolRules.Invalid(ErrorIds.InvalidSetting, $"The low water mark must not be negative; {LowWaterMark} is.", LowWaterMark);
            }
            var spec = new PoolSpec
            {
                Name = Name,
                DataSize = DataSize,
                MetadataSize = MetadataSize,
                BlockSize = EffectiveBlockSize,
                LowWaterMarkBlocks = LowWaterMark is { } mark ? (ulong)mark : null,
                SkipBlockZeroing = SkipBlockZeroing,
                DiscardMode = DiscardMode,
                NoSpacePolicy = NoSpacePolicy,
                MinimumFreeSpacePercent = MinimumFreeSpacePercent,
                DataDevice = ParameterSetName == DirectSet ? GetUnresolvedProviderPathFromPSPath(DataDevice) : null,
                MetadataDevice = ParameterSetName == DirectSet ? GetUnresolvedProviderPathFromPSPath(MetadataDevice) : null,
                Force = Force,
                VolumeGroup = ParameterSetName == LvmSet ? VolumeGroup : null,
                PhysicalDevices = PhysicalDevice.Select(GetUnresolvedProviderPathFromPSPath).ToList(),
                AutoextendThreshold = AutoextendThreshold,
                AutoextendPercent = AutoextendPercent,
            };
            if (Pools.Create(spec, OperationHost) is { } pool)
            {
                WriteObject(pool);
            }
        });
    }
}
