namespace DmPowerShell.Interop;

/// <summary>
/// A freshly bound auto-clearing loop device and the open handle that keeps it bound. Dispose it
/// once device-mapper holds the device: from then on the device lives as long as dm uses it.
/// </summary>
public sealed class LoopAttachment : IDisposable
{
    private readonly IDisposable holder;

    internal LoopAttachment(LoopDevice device, IDisposable holder)
    {
        Device = device;
        this.holder = holder;
    }

    public LoopDevice Device { get; }

    public void Dispose() => holder.Dispose();
}
