using System.Management.Automation;
using DmPowerShell.Pools;
using DmPowerShell.Pools.Backings;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Resize-ThinPool: grows a pool's data and/or metadata space while it runs.</summary>
[Cmdlet(VerbsCommon.Resize, "ThinPool", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByObject)]
[OutputType(typeof(ThinPool))]
public sealed class ResizeThinPoolCommand : PoolCmdlet
{
    /// <summary>The new total data space. In direct mode, omit it to take the grown device's size.</summary>
    [Parameter]
    [SizeTransformation]
    public long? DataSize { get; set; }

    /// <summary>The new total metadata space.</summary>
    [Parameter]
    [SizeTransformation]
    public long? MetadataSize { get; set; }

    /// <summary>LVM mode: block devices that join the pool's volume group (pvcreate, vgextend) before it grows.</summary>
    [Parameter]
    public string[] PhysicalDevice { get; set; } = Array.Empty<string>();

    /// <summary>LVM mode: use new devices that carry a file-system, LVM or partition signature.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var name in TargetPools)
        {
            Try(name, () =>
            {
                var request = new PoolResize(DataSize, MetadataSize) { PhysicalDevices = PhysicalDevice.Select(GetUnresolvedProviderPathFromPSPath).ToList(), Force = Force };
                if (Pools.Resize(name, request, OperationHost) is { } pool)
                {
                    WriteObject(pool);
                }
            });
        }
    }
}
