using System.Management.Automation;
using DmPowerShell.Kernel;
using DmPowerShell.Pools;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>New-ThinPool: a thin pool on sparse loop files (default) or on two block devices.</summary>
[Cmdlet(VerbsCommon.New, "ThinPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = LoopSet)]
[OutputType(typeof(ThinPool))]
public sealed class NewThinPoolCommand : DmCmdlet
{
    private const string LoopSet = "Loop";
    private const string DirectSet = "Direct";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Name { get; set; } = "";

    /// <summary>Data space (loop mode). Default 100GB.</summary>
    [Parameter(ParameterSetName = LoopSet)]
    [SizeTransformation]
    public long? DataSize { get; set; }

    /// <summary>Metadata space (loop mode). Default 2GB.</summary>
    [Parameter(ParameterSetName = LoopSet)]
    [SizeTransformation]
    public long? MetadataSize { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = DirectSet)]
    public string DataDevice { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = DirectSet)]
    public string MetadataDevice { get; set; } = "";

    /// <summary>Direct mode: use devices that carry a file-system, LVM or partition signature.</summary>
    [Parameter(ParameterSetName = DirectSet)]
    public SwitchParameter Force { get; set; }

    [Parameter]
    [SizeTransformation]
    public long BlockSize { get; set; } = PoolSpec.DefaultBlockSize;

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
                BlockSize = BlockSize,
                LowWaterMarkBlocks = LowWaterMark is { } mark ? (ulong)mark : null,
                SkipBlockZeroing = SkipBlockZeroing,
                DiscardMode = DiscardMode,
                NoSpacePolicy = NoSpacePolicy,
                MinimumFreeSpacePercent = MinimumFreeSpacePercent,
                DataDevice = ParameterSetName == DirectSet ? GetUnresolvedProviderPathFromPSPath(DataDevice) : null,
                MetadataDevice = ParameterSetName == DirectSet ? GetUnresolvedProviderPathFromPSPath(MetadataDevice) : null,
                Force = Force,
            };
            if (Pools.Create(spec, OperationHost) is { } pool)
            {
                WriteObject(pool);
            }
        });
    }
}
