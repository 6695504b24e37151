using System.Text.Json.Serialization;

namespace DmPowerShell.Registry;

/// <summary>
/// A change of a pool's thin ids, written durably before the kernel is touched: the one record
/// a transaction makes before its messages, and the one its recovery reads.
/// </summary>
/// <remarks>
/// Creations are sent before the pool's transaction id moves on and deletions after, so the id
/// alone says how far a change got: still <see cref="FromTransaction"/>, nothing is committed
/// and the creations are undone (a deletion not yet sent changed nothing); one more, the change
/// is committed and the deletions are finished. A change without messages (an adoption, a
/// record edit) has nothing to undo: it is always finished.
/// </remarks>
public sealed record PoolJournal
{
    public const string Create = "create";
    public const string Delete = "delete";

    public int Schema { get; init; } = 2;

    /// <summary>What the change is, in the user's words: create, snapshot, remove, adopt...</summary>
    public required string Operation { get; init; }

    public ulong FromTransaction { get; init; }

    /// <summary>New thin devices (create_thin or create_snap), with the ids they get.</summary>
    public IReadOnlyList<VolumeRecord> Created { get; init; } = Array.Empty<VolumeRecord>();

    /// <summary>Volumes whose thin ids the change deletes, and whose records go.</summary>
    public IReadOnlyList<VolumeRecord> Deleted { get; init; } = Array.Empty<VolumeRecord>();

    /// <summary>Thin ids without a record that the change deletes (Repair-ThinPool -DeleteUnrecorded).</summary>
    public IReadOnlyList<uint> DeletedUnrecorded { get; init; } = Array.Empty<uint>();

    /// <summary>
    /// Volumes that keep their thin ids but lose their devices before the messages, because a new
    /// volume takes their name (Restore-ThinVolume); as they were, so a rollback finds them.
    /// </summary>
    public IReadOnlyList<VolumeRecord> Replaced { get; init; } = Array.Empty<VolumeRecord>();

    /// <summary>Records written as they are, with no kernel change (adoptions, repairs).</summary>
    public IReadOnlyList<VolumeRecord> Saved { get; init; } = Array.Empty<VolumeRecord>();

    /// <summary>Records deleted with no kernel change (a record whose thin id the pool does not hold).</summary>
    public IReadOnlyList<VolumeRecord> Forgotten { get; init; } = Array.Empty<VolumeRecord>();

    /// <summary>The id counter after the change: no id under it is handed out again, even when the change is undone.</summary>
    public uint NextId { get; init; }

    /// <summary>Whether the new volumes get devices: a recovery that finishes the change activates them too.</summary>
    public bool Activate { get; init; }

    /// <summary>The dm device of an active origin that the change suspends.</summary>
    public string? SuspendedDevice { get; init; }

    public DateTimeOffset Started { get; init; }
    public int ProcessId { get; init; }

    /// <summary>Schema 1 (one list, its meaning given by <see cref="Operation"/>): read from journals older versions left.</summary>
    public IReadOnlyList<VolumeRecord>? Records { get; init; }

    /// <summary>Whether the change sends messages, and so moves the transaction id.</summary>
    [JsonIgnore]
    public bool SendsMessages => Created.Count > 0 || Deleted.Count > 0 || DeletedUnrecorded.Count > 0;

    /// <summary>Every record the change touches.</summary>
    [JsonIgnore]
    public IEnumerable<VolumeRecord> Volumes => Created.Concat(Deleted).Concat(Saved).Concat(Forgotten).Concat(Records ?? Array.Empty<VolumeRecord>());

    /// <summary>Every thin id the change touches (none of them is a disagreement while it is unfinished).</summary>
    [JsonIgnore]
    public IEnumerable<uint> ThinIds => Volumes.Select(v => v.ThinId.Value).Concat(DeletedUnrecorded);

    /// <summary>A schema 1 journal in today's terms.</summary>
    public PoolJournal Upgraded() => Records is not { Count: > 0 } old ? this : this with
    {
        Schema = 2,
        Records = null,
        Created = Operation == Create ? old : Array.Empty<VolumeRecord>(),
        Deleted = Operation == Create ? Array.Empty<VolumeRecord>() : old,
        NextId = Math.Max(NextId, old.Max(r => r.ThinId) + 1),
    };
}
