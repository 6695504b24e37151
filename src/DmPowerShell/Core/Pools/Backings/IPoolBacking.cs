using DmPowerShell.Registry;

namespace DmPowerShell.Pools.Backings;

/// <summary>
/// Where a pool's data and metadata live (sparse files on loop devices, block devices, an LVM
/// thin-pool LV) and everything about a pool that depends on it: its lifecycle, its live device,
/// how far it may grow, how its metadata is replaced. Chosen once from the record
/// (<see cref="PoolBackings"/>), so no other code asks which mode a pool is in.
/// </summary>
public interface IPoolBacking
{
    PoolBacking Kind { get; }

    /// <summary>Who keeps the pool's table, transaction id and thin ids.</summary>
    PoolManager Manager { get; }

    /// <summary>The pool's live thin-pool device, or null when it is not active.</summary>
    string? LiveDeviceName(PoolRecord record);

    /// <summary>Whether a device of this name is this pool's thin-pool (active or not).</summary>
    bool Names(PoolRecord record, string deviceName);

    /// <summary>Refuses what only a pool whose table the module owns can do; <paramref name="instead"/> says what to use.</summary>
    void RequireOwnTable(PoolRecord record, string instead);

    /// <summary>LVM's dmeventd monitoring of the pool; null where LVM does not manage it.</summary>
    string? Monitoring(PoolRecord record);

    /// <summary>How far Watch-ThinPool may grow each space; null when the module never grows this pool.</summary>
    (long Data, long Metadata)? GrowthLimits(PoolRecord record);

    /// <summary>The size a space's storage already has: an extension never asks for less (a file grown by a killed resize).</summary>
    long StoredSize(PoolRecord record, bool metadata);

    ThinPool? Create(PoolSpec spec, IOperationHost host);

    /// <summary>Undoes what a creation left behind when a killed process left its record in Creating.</summary>
    void RollBackCreation(PoolRecord stale);

    ThinPool? Enable(PoolRecord record, IOperationHost host);

    bool Disable(PoolRecord record, bool deactivateVolumes, IOperationHost host);

    ThinPool? Resize(PoolRecord record, PoolResize request, IOperationHost host);

    bool Remove(PoolRecord record, bool deactivateVolumes, bool deleteBackingFiles, IOperationHost host);

    /// <summary>Set-ThinPool: <paramref name="updated"/> is the record with the new policies, <paramref name="changes"/> their description.</summary>
    ThinPool? SetPolicies(PoolRecord record, PoolRecord updated, string changes, IOperationHost host);

    /// <summary>Where repaired or restored metadata goes: checks the spare the user named (or that none is needed).</summary>
    void CheckSpare(PoolRecord record, string? spareDevice, bool force);

    /// <summary>What replacing the metadata does, for -WhatIf: <paramref name="write"/> is the tool line, "{0}" standing for the spare.</summary>
    IReadOnlyList<string> DescribeMetadataReplacement(PoolRecord record, string? spareDevice, string write, string spareSuffix, string kept);

    /// <summary>
    /// Fills a spare with <paramref name="write"/>, checks it, and only then lets the pool take it;
    /// on failure nothing else has changed.
    /// </summary>
    void ReplaceMetadata(PoolRecord record, string? spareDevice, string spareSuffix, string kept, IOperationHost host,
        Func<string, Storage.ToolResult> write, Func<Storage.ToolResult, DmPowerShellException> failure);
}
