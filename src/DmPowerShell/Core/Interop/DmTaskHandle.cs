using System.Runtime.InteropServices;

namespace DmPowerShell.Interop;

/// <summary>A libdevmapper task (struct dm_task*), destroyed under the libdm gate.</summary>
internal sealed class DmTaskHandle : SafeHandle
{
    public DmTaskHandle() : base(IntPtr.Zero, ownsHandle: true) { }

    public DmTaskHandle(IntPtr task) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(task);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        lock (LibDevMapper.Gate)
        {
            LibDevMapper.dm_task_destroy(handle);
        }
        return true;
    }
}
