using DmPowerShell.Kernel;
using DmPowerShell.Pools;
using DmPowerShell.Registry;
using DmPowerShell.Transactions;
using DmPowerShell.Units;

namespace DmPowerShell.Volumes;

/// <summary>
/// Thin volumes and snapshots of the module's own pools. Every command opens one
/// <see cref="PoolSession"/> (the pool read once, locked once, what a killed command left
/// finished first); every change of thin ids is one <see cref="PoolTransaction"/>. The parts:
/// creation (VolumeService.Create.cs), the rest of a volume's life (VolumeService.Lifecycle.cs),
/// queries (VolumeService.Queries.cs).
/// </summary>
public sealed partial class VolumeService
{
    public static readonly string[] FileSystems = { "ext4", "xfs" };

    private readonly PoolService pools;
    private readonly IDeviceMapper dm;

    public VolumeService(PoolService pools, IDeviceMapper? client = null)
    {
        this.pools = pools;
        dm = client ?? pools.DeviceMapper;
    }

    /// <summary>The pool, read and locked for this command; nothing is changed until <see cref="PoolSession.Prepare"/>.</summary>
    private PoolSession Open(string pool, IReadOnlySet<uint>? metadataThinIds = null, bool leaveJournalThePoolMovedPast = false) =>
        PoolSession.Open(pools, pool, OverrideHandover, metadataThinIds, leaveJournalThePoolMovedPast);

    /// <summary>-Force: change thin ids of a pool handed to a container runtime all the same.</summary>
    public bool OverrideHandover { get; init; }

    /// <summary>
    /// Completes or rolls back what an interrupted command left (preparing a session does it);
    /// with the thin ids of the pool's metadata, also a journal the pool has moved past.
    /// </summary>
    public void Recover(string pool, IOperationHost host, IReadOnlySet<uint>? metadataThinIds = null)
    {
        using var session = Open(pool, metadataThinIds);
        session.Prepare(host);
    }

    /// <summary>Deletes a thin id that has no record (Repair-ThinPool -DeleteUnrecorded), as one transaction.</summary>
    public void DeleteUnrecordedThinId(string pool, uint id, IOperationHost host)
    {
        using var session = Open(pool);
        session.Prepare(host);
        if (session.Volumes.FindById(id) is not null)
        {
            throw new DmPowerShellException(ErrorIds.InvalidSetting, ErrorKind.InvalidState, $"Thin id {id} of pool '{pool}' has a record now; it is not deleted.", id);
        }
        new PoolTransaction(session, "deletion of an unrecorded thin id") { DeletedUnrecorded = { id } }.Run(host);
    }

    private static DmPowerShellException VolumeNotFound(string pool, string name) =>
        new(ErrorIds.VolumeNotFound, ErrorKind.NotFound, $"Pool '{pool}' has no volume named '{name}'. Get-ThinVolume -Pool '{pool}' lists them.", name);

    private static void CheckName(PoolRecord pool, string name)
    {
        var problem = Naming.Check(name, "volume");
        var deviceName = Naming.VolumeDeviceName(pool.Name, name);
        if (problem is null && deviceName.Length > Naming.MaxDeviceNameLength)
        {
            problem = $"The volume name '{name}' is too long: its device-mapper name '{deviceName}' would be {deviceName.Length} characters, over dm's {Naming.MaxDeviceNameLength}.";
        }
        if (problem is not null)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidName, problem, name);
        }
    }

    public static void CheckSize(long size)
    {
        if (size <= 0)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSize, $"A volume's size must be positive; {size} bytes is not.", size);
        }
        if (size % Sectors.Size != 0)
        {
            throw PoolRules.Invalid(ErrorIds.InvalidSize, $"A volume's size must be a multiple of 512 bytes (a sector); {size} bytes is not. Use {ByteSize.Format(PoolRules.RoundUp(size, Sectors.Size))}.", size);
        }
    }

    private void CheckNameFree(PoolSession session, string name)
    {
        if (session.Volumes.NameTaken(name))
        {
            throw new DmPowerShellException(ErrorIds.NameTaken, ErrorKind.AlreadyExists, $"Pool '{session.Pool.Name}' already has a volume named '{name}'.", name);
        }
        var deviceName = Naming.VolumeDeviceName(session.Pool.Name, name);
        if (dm.GetInfo(deviceName) is { } other)
        {
            throw new DmPowerShellException(ErrorIds.NameTaken, ErrorKind.AlreadyExists,
                $"A device-mapper device named '{deviceName}' already exists (uuid '{other.Uuid}'); choose another volume name.", name);
        }
    }

    /// <summary>Refuses new thin devices in a pool that is failed, read-only, needs a check, or is under its minimum free space.</summary>
    private static void CheckPoolCanGrow(PoolSession session, ThinPoolStatus status)
    {
        var name = session.Pool.Name;
        if (status.Health != TargetHealth.Ok || status.Mode != PoolMode.ReadWrite || status.NeedsCheck == true)
        {
            var state = status.Health != TargetHealth.Ok ? status.Health.ToString() : status.NeedsCheck == true ? "needs_check" : status.Mode.ToString();
            throw new DmPowerShellException(ErrorIds.PoolUnhealthy, ErrorKind.InvalidState,
                $"Pool '{name}' is {state}: it takes no new volumes. Get-PoolStatus '{name}' shows why; Resize-ThinPool adds space, Repair-ThinPool checks metadata.", name);
        }
        var minimum = session.Pool.MinimumFreeSpacePercent;
        var dataFree = 100.0 * (status.TotalDataBlocks - status.UsedDataBlocks) / Math.Max(1, status.TotalDataBlocks);
        var metaFree = 100.0 * (status.TotalMetadataBlocks - status.UsedMetadataBlocks) / Math.Max(1, status.TotalMetadataBlocks);
        if (dataFree < minimum || metaFree < minimum)
        {
            var which = dataFree < minimum ? $"data space is {dataFree:0.#}% free" : $"metadata space is {metaFree:0.#}% free";
            throw new DmPowerShellException(ErrorIds.PoolLowOnSpace, ErrorKind.Unavailable,
                $"Pool '{name}' refuses new volumes: its {which}, under its minimum of {minimum}%. Grow it with Resize-ThinPool, or remove volumes.", name);
        }
    }
}
