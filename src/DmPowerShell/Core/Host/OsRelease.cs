namespace DmPowerShell.Host;

/// <summary>The fields of os-release(5) the module reads: which distribution this is, for the advice its errors give.</summary>
public sealed record OsRelease(string Id, IReadOnlyList<string> IdLike, string PrettyName)
{
    /// <summary>No os-release was found.</summary>
    public static readonly OsRelease None = new("", Array.Empty<string>(), "");

    /// <summary>The family from ID, then from each ID_LIKE in order (Rocky: ID=rocky, ID_LIKE="rhel centos fedora").</summary>
    public LinuxFamily Family =>
        new[] { Id }.Concat(IdLike).Select(FamilyOf).FirstOrDefault(f => f != LinuxFamily.Unknown);

    /// <summary>
    /// This host's os-release: $DMPS_OS_RELEASE (a path, so that tests can play another distribution),
    /// else /etc/os-release, else /usr/lib/os-release. Read on each call: only error paths ask.
    /// </summary>
    public static OsRelease Current()
    {
        var candidates = new[] { Environment.GetEnvironmentVariable("DMPS_OS_RELEASE"), "/etc/os-release", "/usr/lib/os-release" };
        foreach (var path in candidates.Where(p => !string.IsNullOrEmpty(p)))
        {
            try
            {
                return Parse(File.ReadAllText(path!));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return None;
    }

    /// <summary>Parses os-release's KEY=value lines (values optionally quoted, as the format allows).</summary>
    public static OsRelease Parse(string text)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            var equals = line.IndexOf('=');
            if (line.Length == 0 || line[0] == '#' || equals <= 0) continue;
            var value = line[(equals + 1)..].Trim();
            if (value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0]) value = value[1..^1];
            fields[line[..equals]] = value.Replace("\\\"", "\"", StringComparison.Ordinal);
        }
        string Field(string key) => fields.TryGetValue(key, out var v) ? v : "";
        return new OsRelease(Field("ID").ToLowerInvariant(),
            Field("ID_LIKE").ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries), Field("PRETTY_NAME"));
    }

    private static LinuxFamily FamilyOf(string id) => id switch
    {
        "debian" or "ubuntu" or "linuxmint" or "raspbian" or "pop" => LinuxFamily.Debian,
        "rhel" or "fedora" or "centos" or "rocky" or "almalinux" or "ol" or "amzn" => LinuxFamily.RedHat,
        "suse" or "sles" or "sle" or "opensuse" => LinuxFamily.Suse,
        _ when id.StartsWith("opensuse", StringComparison.Ordinal) => LinuxFamily.Suse,
        "arch" or "manjaro" or "endeavouros" => LinuxFamily.Arch,
        "alpine" => LinuxFamily.Alpine,
        _ => LinuxFamily.Unknown,
    };
}
