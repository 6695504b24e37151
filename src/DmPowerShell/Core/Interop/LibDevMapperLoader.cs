using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DmPowerShell.Interop;

/// <summary>
/// Finds libdevmapper under whichever soname this distribution ships it: the P/Invoke
/// declarations name Debian's, and this resolver answers for them with the first that loads.
/// </summary>
internal static class LibDevMapperLoader
{
    /// <summary>
    /// In order: Debian and Ubuntu's own soname; the upstream one (Fedora, RHEL and its rebuilds,
    /// Arch, Alpine); openSUSE's libdevmapper1_03; the unversioned link that only -dev/-devel packages ship.
    /// </summary>
    public static readonly IReadOnlyList<string> Sonames = new[]
    {
        LibDevMapper.Library, "libdevmapper.so.1.02", "libdevmapper.so.1.03", "libdevmapper.so",
    };

    private static readonly object Sync = new();
    private static IntPtr handle;

    /// <summary>The soname that loaded, or null before the first call (or when none did).</summary>
    public static string? LoadedSoname { get; private set; }

    // A library's own module initializer (CA2255's "advanced" case): the resolver must be in place
    // before any of this assembly's P/Invokes binds, whichever entry point (cmdlet, driver, test) loads it.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Install() => NativeLibrary.SetDllImportResolver(typeof(LibDevMapperLoader).Assembly, Resolve);

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != LibDevMapper.Library) return IntPtr.Zero; // libc and the rest: the runtime's own probing
        return TryLoad(out var loaded) ? loaded : IntPtr.Zero;
    }

    /// <summary>Loads libdevmapper once per process; false when no soname of <see cref="Sonames"/> loads.</summary>
    public static bool TryLoad(out IntPtr library)
    {
        lock (Sync)
        {
            if (handle == IntPtr.Zero)
            {
                var (found, soname) = FirstLoadable(Sonames, name => NativeLibrary.TryLoad(name, out var h) ? h : IntPtr.Zero);
                handle = found;
                LoadedSoname = soname;
            }
            library = handle;
            return handle != IntPtr.Zero;
        }
    }

    /// <summary>The first of <paramref name="sonames"/> that <paramref name="load"/> opens (non-zero), in order.</summary>
    public static (IntPtr Handle, string? Soname) FirstLoadable(IEnumerable<string> sonames, Func<string, IntPtr> load)
    {
        foreach (var soname in sonames)
        {
            var loaded = load(soname);
            if (loaded != IntPtr.Zero) return (loaded, soname);
        }
        return (IntPtr.Zero, null);
    }
}
