using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DmPowerShell.Interop;

/// <summary>
/// Replaces libdevmapper's default logging (which prints to stderr) with a callback that keeps
/// the last messages in memory, so that nothing leaks to the user's console.
/// </summary>
public static unsafe class DeviceMapperLog
{
    private const int Capacity = 64;
    private const int NoticeLevel = 5; // _LOG_NOTICE; info is 6, debug 7
    private static readonly Queue<DeviceMapperLogEntry> Entries = new();
    private static readonly object EntriesLock = new();
    private static int installed;

    /// <summary>Raised for each notice, warning or error, on the thread that called libdevmapper.</summary>
    public static event Action<DeviceMapperLogEntry>? MessageLogged;

    /// <summary>The most recent notices, warnings and errors, oldest first.</summary>
    public static IReadOnlyList<DeviceMapperLogEntry> Recent
    {
        get { lock (EntriesLock) { return Entries.ToArray(); } }
    }

    /// <summary>Installs the callback once per process. Call with <see cref="LibDevMapper.Gate"/> held.</summary>
    internal static void EnsureInstalled()
    {
        if (Interlocked.Exchange(ref installed, 1) == 0)
        {
            LibDevMapper.dm_log_with_errno_init(&OnLog);
        }
    }

    // The native signature is variadic (..., const char *f, ...); on x86-64 System V the fixed
    // arguments arrive in the same registers either way, and the rest are simply not read.
    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void OnLog(int level, IntPtr file, int line, int errnoOrClass, IntPtr format)
    {
        // libdevmapper calls a custom logger for every line, debug included (several per task);
        // only notices, warnings and errors are kept, so the rest cost no strings.
        if ((level & 0x7) > NoticeLevel)
        {
            return;
        }
        try
        {
            var entry = new DeviceMapperLogEntry(level & 0x7, LibDevMapper.ReadString(file), line, errnoOrClass, LibDevMapper.ReadString(format));
            lock (EntriesLock)
            {
                if (Entries.Count == Capacity)
                {
                    Entries.Dequeue();
                }
                Entries.Enqueue(entry);
            }
            MessageLogged?.Invoke(entry);
        }
        catch
        {
            // An exception must never unwind into native code.
        }
    }
}
