using System.Management.Automation;
using DmPowerShell.Volumes;

namespace DmPowerShell.Commands.Cmdlets;

/// <summary>Resize-ThinVolume: grows a volume's virtual size, and with -ResizeFileSystem its ext4 or xfs.</summary>
[Cmdlet(VerbsCommon.Resize, "ThinVolume", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByObject)]
[OutputType(typeof(ThinVolume))]
public sealed class ResizeThinVolumeCommand : VolumeCmdlet
{
    [Parameter(Mandatory = true)]
    [SizeTransformation]
    public long Size { get; set; }

    /// <summary>Grow the file system too (resize2fs; xfs_growfs on its mount point).</summary>
    [Parameter]
    public SwitchParameter ResizeFileSystem { get; set; }

    protected override void ProcessRecord() => Try(TargetName, () =>
    {
        if (Volumes.Resize(TargetPool, TargetName, Size, ResizeFileSystem, OperationHost) is { } volume)
        {
            WriteObject(volume);
        }
    });
}
