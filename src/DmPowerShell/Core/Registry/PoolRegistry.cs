using System.Text.Json;
using System.Text.Json.Serialization;

namespace DmPowerShell.Registry;

/// <summary>
/// The module's records, one folder per pool under the state root:
/// <c>pools/&lt;name&gt;/pool.json</c> (plus the loop mode's backing files and the pool's lock).
/// Every write is atomic and durable; every change happens under the pool's lock.
/// </summary>
public sealed class PoolRegistry
{
    public const string DefaultRoot = "/var/lib/dmpowershell";
    public const string RootVariable = "DMPS_STATE_ROOT";
    public const string LockTimeoutVariable = "DMPS_LOCK_TIMEOUT";

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public PoolRegistry(string? stateRoot = null)
    {
        var chosen = stateRoot ?? Environment.GetEnvironmentVariable(RootVariable);
        Root = Path.GetFullPath(string.IsNullOrWhiteSpace(chosen) ? DefaultRoot : chosen);
        var seconds = Environment.GetEnvironmentVariable(LockTimeoutVariable);
        LockTimeout = double.TryParse(seconds, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var s) && s >= 0
            ? TimeSpan.FromSeconds(s)
            : TimeSpan.FromSeconds(60);
    }

    public string Root { get; }
    public TimeSpan LockTimeout { get; set; }
    public string PoolsFolder => Path.Combine(Root, "pools");

    public string PoolFolder(string name) => Path.Combine(PoolsFolder, name);

    private string PoolFile(string name) => Path.Combine(PoolFolder(name), "pool.json");

    /// <summary>
    /// The recorded pools, by name. A creation in progress (or interrupted: rolled back by the next
    /// New-ThinPool) is not a pool yet, and is left out unless asked for.
    /// </summary>
    public IReadOnlyList<PoolRecord> ListPools(bool includeUnfinished = false)
    {
        if (!Directory.Exists(PoolsFolder))
        {
            return Array.Empty<PoolRecord>();
        }
        return Directory.EnumerateDirectories(PoolsFolder)
            .Select(d => FindPool(Path.GetFileName(d)))
            .OfType<PoolRecord>()
            .Where(p => includeUnfinished || p.State == RecordState.Ready)
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ToList();
    }

    public PoolRecord? FindPool(string name)
    {
        var file = PoolFile(name);
        try
        {
            return DurableFile.ReadIfExists(file) is { } bytes
                ? JsonSerializer.Deserialize<PoolRecord>(bytes, Json) ?? throw new JsonException("empty document")
                : null;
        }
        catch (JsonException e)
        {
            throw new DmPowerShellException(ErrorIds.RecordCorrupt, ErrorKind.InvalidState,
                $"The record of pool '{name}' ({file}) cannot be read: {e.Message}. Restore it from a backup or rebuild it with Repair-ThinPool.", name, e);
        }
    }

    public void SavePool(PoolRecord record)
    {
        DurableFile.CreateFolder(PoolFolder(record.Name));
        DurableFile.Write(PoolFile(record.Name), JsonSerializer.SerializeToUtf8Bytes(record, Json));
    }

    private string AutoextendFile(string name) => Path.Combine(PoolFolder(name), "autoextend.json");

    /// <summary>The watcher's extensions of the pool so far (none when it never grew it).</summary>
    public AutoextendCounts ReadAutoextendCounts(string name) =>
        DurableFile.ReadIfExists(AutoextendFile(name)) is { } bytes && JsonSerializer.Deserialize<AutoextendCounts>(bytes, Json) is { } counts
            ? counts
            : new AutoextendCounts();

    /// <summary>Counts one extension; only the pool's watcher (one per pool, by its lock) writes it.</summary>
    public void CountAutoextend(string name, bool metadata, DateTimeOffset when)
    {
        var counts = ReadAutoextendCounts(name);
        counts = metadata ? counts with { Metadata = counts.Metadata + 1, Last = when } : counts with { Data = counts.Data + 1, Last = when };
        DurableFile.Write(AutoextendFile(name), JsonSerializer.SerializeToUtf8Bytes(counts, Json));
    }

    public void DeletePool(string name)
    {
        DurableFile.Delete(PoolFile(name));
        // The counts belong to the pool: a new pool of the name starts from none.
        DurableFile.Delete(AutoextendFile(name));
    }

    /// <summary>Removes the pool's folder and everything in it.</summary>
    public void DeletePoolFolder(string name)
    {
        var folder = PoolFolder(name);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
            DurableFile.SyncFolder(PoolsFolder);
        }
    }

    /// <summary>Removes the pool's folder when nothing but the lock is left in it.</summary>
    public void DeletePoolFolderIfEmpty(string name)
    {
        var folder = PoolFolder(name);
        if (!Directory.Exists(folder))
        {
            return;
        }
        var left = Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).Where(n => n != "lock").ToList();
        if (left.Count == 0)
        {
            Directory.Delete(folder, recursive: true);
            DurableFile.SyncFolder(PoolsFolder);
        }
    }

    /// <summary>The lock over the set of pools (creation and removal of names).</summary>
    public FileLock LockRegistry()
    {
        EnsureWritableRoot();
        return FileLock.Acquire(Path.Combine(Root, "lock"), LockTimeout, "the DmPowerShell registry");
    }

    /// <summary>The pool's lock when nobody holds it (and the root is writable); null otherwise: for readers that have another way.</summary>
    public FileLock? TryLockPool(string name)
    {
        var folder = PoolFolder(name);
        try
        {
            return Directory.Exists(folder) ? FileLock.TryAcquire(Path.Combine(folder, "lock")) : null;
        }
        catch (Interop.NativeCallException)
        {
            return null;
        }
    }

    /// <summary>The lock over one pool: every change to it, its volumes and its records.</summary>
    public FileLock LockPool(string name)
    {
        var folder = PoolFolder(name);
        // A pool's folder exists once the root has passed the check; a read-only root is still
        // explained, when the lock file cannot be opened.
        if (!Directory.Exists(folder))
        {
            EnsureWritableRoot();
            DurableFile.CreateFolder(folder);
        }
        try
        {
            return FileLock.Acquire(Path.Combine(folder, "lock"), LockTimeout, $"pool '{name}'");
        }
        catch (Interop.NativeCallException e) when (e.Errno is Interop.Errno.EROFS or Interop.Errno.EACCES or Interop.Errno.EPERM)
        {
            EnsureWritableRoot();
            throw;
        }
    }

    /// <summary>
    /// Checks the state root before the first change: a real folder (no symlink), writable, or
    /// creatable inside an existing parent. Creates it (0700) and its pools folder.
    /// </summary>
    public void EnsureWritableRoot()
    {
        var info = new DirectoryInfo(Root);
        if (info.Exists)
        {
            if (info.LinkTarget is not null)
            {
                throw RootProblem($"The state root {Root} is a symbolic link (to {info.LinkTarget}); point -StateRoot or {RootVariable} at the real folder.");
            }
        }
        else if (File.Exists(Root))
        {
            throw RootProblem($"The state root {Root} is a file, not a folder.");
        }
        else
        {
            var parent = Path.GetDirectoryName(Root);
            if (parent is null || !Directory.Exists(parent))
            {
                throw RootProblem($"The state root {Root} does not exist, nor does its parent folder {parent}. Create it, or point -StateRoot or {RootVariable} at an existing folder.");
            }
        }
        try
        {
            DurableFile.CreateFolder(PoolsFolder);
            var probe = Path.Combine(Root, $".probe.{Environment.ProcessId}");
            File.WriteAllBytes(probe, Array.Empty<byte>());
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw RootProblem($"The state root {Root} is not writable: {e.Message}", e);
        }
    }

    private DmPowerShellException RootProblem(string message, Exception? inner = null) =>
        new(ErrorIds.StateRootInvalid, ErrorKind.InvalidArgument, message, Root, inner);
}
