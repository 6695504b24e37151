using DmPowerShell.Interop;

namespace DmPowerShell.Pools.Backings;

/// <summary>The devices a pool's table names, filled in as the plan's attach steps run.</summary>
public sealed class PoolDevices : IDisposable
{
    private readonly List<IDisposable> held = new();

    public DeviceNumber? Data { get; set; }

    public DeviceNumber? Metadata { get; set; }

    /// <summary>The data space the attached device holds.</summary>
    public long? DataBytes { get; set; }

    /// <summary>Keeps an attachment open until the pool's device holds it (loops clear themselves once unused).</summary>
    public void Hold(IDisposable attachment) => held.Add(attachment);

    public void Dispose()
    {
        foreach (var attachment in held) attachment.Dispose();
        held.Clear();
    }
}
