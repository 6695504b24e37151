using DmPowerShell.Interop;
using static Tmds.Linux.LibC;

namespace DmPowerShell.Registry;

/// <summary>Atomic, durable file writes: temporary file, fsync, rename, fsync of the folder.</summary>
public static class DurableFile
{
    public const int FileMode = 0b110_000_000;   // 0600
    public const int FolderMode = 0b111_000_000; // 0700

    private static long syncs;

    /// <summary>fsync calls made by the registry since start: the benchmark reports them per operation.</summary>
    public static long Syncs => Interlocked.Read(ref syncs);

    /// <summary>Replaces <paramref name="path"/> with <paramref name="content"/> so that a crash leaves the old or the new file, never a torn one.</summary>
    /// <param name="syncFolder">False when the caller syncs the folder once for several writes (a transaction's records).</param>
    /// <remarks>
    /// Plain libc calls (open, write, fsync, close, rename: five system calls) rather than a
    /// FileStream, which adds a lock, a truncate, a seek and a stat to each write: the registry
    /// writes several files per change, and on the hot path each call counts.
    /// </remarks>
    /// <param name="mode">The file's mode: the registry's are private; a metrics file is read by node_exporter's user.</param>
    public static unsafe void Write(string path, ReadOnlySpan<byte> content, bool syncFolder = true, int mode = FileMode)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temporary = Path.Combine(folder, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        using (var file = FileDescriptor.Open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode))
        {
            file.WriteAll(content, temporary);
            if (fsync(file.Fd) != 0)
            {
                throw new NativeCallException("fsync", temporary, errno);
            }
            Interlocked.Increment(ref syncs);
        }
        FileDescriptor.Rename(temporary, path);
        if (syncFolder) SyncFolder(folder);
    }

    /// <summary>A whole file's bytes, or null when it does not exist (open, fstat, read, close).</summary>
    public static byte[]? ReadIfExists(string path) => FileDescriptor.ReadAllIfExists(path);

    /// <summary>Opens a file for writing; a new file gets mode 0600.</summary>
    public static FileStream OpenPrivate(string path, FileMode mode) => new(path, new FileStreamOptions
    {
        Mode = mode,
        Access = FileAccess.ReadWrite,
        Share = FileShare.None,
        UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
    });

    /// <summary>Deletes a file durably; a missing file is fine.</summary>
    public static void Delete(string path, bool syncFolder = true)
    {
        if (FileDescriptor.Unlink(path) && syncFolder)
        {
            SyncFolder(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
    }

    /// <summary>Creates a folder (and its parents) with mode 0700, and makes the creation durable.</summary>
    public static void CreateFolder(string path)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            return;
        }
        var parent = Path.GetDirectoryName(full);
        if (parent is not null)
        {
            CreateFolder(parent);
        }
        Directory.CreateDirectory(full, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (parent is not null)
        {
            SyncFolder(parent);
        }
    }

    /// <summary>
    /// Puts <paramref name="replacement"/> in place of <paramref name="path"/> and keeps the old
    /// content as <paramref name="keptAs"/>: a hard link first, then one rename, so that a crash
    /// at any moment leaves <paramref name="path"/> holding the old or the new content, never nothing.
    /// </summary>
    public static unsafe void ReplaceKeeping(string path, string replacement, string keptAs)
    {
        if (File.Exists(path))
        {
            var from = FileDescriptor.NullTerminated(path);
            var to = FileDescriptor.NullTerminated(keptAs);
            fixed (byte* f = from)
            fixed (byte* t = to)
            {
                if (link(f, t) != 0)
                {
                    throw new NativeCallException("link", keptAs, errno);
                }
            }
        }
        File.Move(replacement, path, overwrite: true);
        SyncFolder(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    public static void SyncFolder(string folder)
    {
        const int O_DIRECTORY = 0x10000;
        using var fd = FileDescriptor.Open(folder, O_RDONLY | O_DIRECTORY);
        fsync(fd.Fd);
        Interlocked.Increment(ref syncs);
    }
}
