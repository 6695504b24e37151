using System.Management.Automation;
using DmPowerShell.Pools;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Resize-ThinPool: grows a pool's data and/or metadata space while it runs.</summary>
[Cmdlet(VerbsCommon.Resize, "ThinPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ThinPool))]
public sealed class ResizeThinPoolCommand : DmCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public string Name { get; set; } = "";

    /// <summary>The new total data space. In direct mode, omit it to take the grown device's size.</summary>
    [Parameter]
    [SizeTransformation]
    public long? DataSize { get; set; }

    /// <summary>The new total metadata space.</summary>
    [Parameter]
    [SizeTransformation]
    public long? MetadataSize { get; set; }

    protected override void ProcessRecord()
    {
        Try(Name, () =>
        {
            if (Pools.Resize(Name, DataSize, MetadataSize, OperationHost) is { } pool)
            {
                WriteObject(pool);
            }
        });
    }
}
