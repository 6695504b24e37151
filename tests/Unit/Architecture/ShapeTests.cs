using System.Text.RegularExpressions;

namespace DmPowerShell.Tests.Unit.Architecture;

/// <summary>
/// The shape of the core, read from its sources: small files, one place that knows the backing
/// modes, and lower layers that never name the layers above them.
/// </summary>
public sealed partial class ShapeTests
{
    private static readonly string CoreRoot = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src", "DmPowerShell", "Core"));

    private static IEnumerable<(string File, string Text)> Sources(string folder = "") =>
        Directory.EnumerateFiles(Path.Combine(CoreRoot, folder), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => (Path.GetRelativePath(CoreRoot, f), File.ReadAllText(f)));

    [Fact]
    public void No_source_file_is_over_400_lines()
    {
        var sources = Sources().Concat(Directory.EnumerateFiles(Path.Combine(CoreRoot, "..", "Commands"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal)).Select(f => (f, File.ReadAllText(f))));
        var long_ = sources.Select(s => (s.Item1, Lines: s.Item2.Split('\n').Length)).Where(s => s.Lines > 400).ToList();
        Assert.True(long_.Count == 0, string.Join(", ", long_.Select(s => $"{s.Item1}: {s.Lines} lines")));
    }

    [Fact]
    public void Only_the_backing_types_branch_on_the_backing_mode()
    {
        var allowed = new[] { $"Pools{Path.DirectorySeparatorChar}Backings{Path.DirectorySeparatorChar}", $"Registry{Path.DirectorySeparatorChar}PoolRecord.cs" };
        var branching = Sources().Where(s => !allowed.Any(a => s.File.StartsWith(a, StringComparison.Ordinal)) && ModeBranch().IsMatch(s.Text)).Select(s => s.File).ToList();
        Assert.True(branching.Count == 0, "mode branches outside Pools/Backings: " + string.Join(", ", branching));
        Assert.True(Sources("Pools/Backings").Any(s => ModeBranch().IsMatch(s.Text)), "the pattern still finds the backing types' own branches");
    }

    [Theory]
    [InlineData("Interop", "Kernel Registry Storage Lvm Pools Transactions Volumes Health Monitoring")]
    [InlineData("Kernel", "Registry Storage Lvm Pools Transactions Volumes Health Monitoring")]
    [InlineData("Registry", "Storage Lvm Pools Transactions Volumes Health Monitoring")]
    [InlineData("Host", "Units Interop Kernel Registry Storage Lvm Pools Transactions Volumes Health Monitoring")]
    [InlineData("Units", "Interop Kernel Registry Storage Lvm Pools Transactions Volumes Health Monitoring")]
    [InlineData("Storage", "Lvm Pools Transactions Volumes Health Monitoring")]
    [InlineData("Lvm", "Pools Transactions Volumes Health Monitoring")]
    [InlineData("Pools", "Health Monitoring")]
    [InlineData("Streams", "Interop Kernel Registry Storage Lvm Pools Transactions Volumes Health Monitoring")]
    public void A_lower_layer_names_no_layer_above_it(string layer, string above)
    {
        foreach (var (file, text) in Sources(layer))
        {
            foreach (var upper in above.Split(' '))
            {
                Assert.False(Regex.IsMatch(text, $@"using DmPowerShell\.{upper}\b|\bDmPowerShell\.{upper}\.|[^.\w]{upper}\.[A-Z]\w*\.|new {upper}\."),
                    $"{file} ({layer}) refers to {upper}, a layer above it");
            }
        }
    }

    [Fact]
    public void Each_file_holds_one_type_named_after_it()
    {
        var wrong = new List<string>();
        foreach (var (file, text) in Sources())
        {
            var types = TypeDeclaration().Matches(text).Select(m => m.Groups["name"].Value).ToList();
            var expected = Path.GetFileName(file).Split('.')[0];
            if (types.Count != 1 || types[0] != expected) wrong.Add($"{file}: {string.Join(", ", types)}");
        }
        Assert.True(wrong.Count == 0, string.Join("; ", wrong));
    }

    [GeneratedRegex(@"^(public|internal) (sealed |static |abstract |readonly |unsafe )*(partial )?(record struct|record|class|enum|interface|struct) (?<name>\w+)", RegexOptions.Multiline)]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"PoolBacking\.(Loop|Direct|Lvm)\b|\.Backing\s*(==|!=|is)\s|Backing:\s*(not\s+)?PoolBacking")]
    private static partial Regex ModeBranch();
}
