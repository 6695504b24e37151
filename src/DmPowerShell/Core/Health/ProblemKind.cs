namespace DmPowerShell.Health;

/// <summary>What Test-ThinPool can find wrong with a pool.</summary>
public enum ProblemKind
{
    /// <summary>A thin id in the pool's metadata that no record names (data nobody can reach by name).</summary>
    UnrecordedThinId,
    /// <summary>A thin id of the container runtime the pool is handed to: reported, not a problem; never repaired.</summary>
    RuntimeThinId,
    /// <summary>A record whose thin id the pool does not hold (a name with no data behind it).</summary>
    MissingThinId,
    /// <summary>An active dm device of this pool that no record names.</summary>
    UnrecordedDevice,
    /// <summary>A record says active and its device is not, or the other way round.</summary>
    StaleActiveState,
    /// <summary>An active volume whose live table is not the size its record says.</summary>
    SizeMismatch,
    /// <summary>A metadata repair was interrupted after it took the pool offline.</summary>
    UnfinishedRepair,
    /// <summary>The registry's summary of the pool's records (what Get-PoolStatus counts) disagrees with the records.</summary>
    StaleSummary,
    /// <summary>A journal left by an interrupted command.</summary>
    UnfinishedTransaction,
    NeedsCheck,
    ReadOnly,
    OutOfDataSpace,
    Failed,
    LowDataSpace,
    LowMetadataSpace,
    /// <summary>thin_check finds the metadata damaged (checked while the pool is inactive).</summary>
    MetadataDamaged,
    /// <summary>The pool device is not active: its metadata was read from the device at rest.</summary>
    Inactive,
}
