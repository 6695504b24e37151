using System.Text.RegularExpressions;

namespace DmPowerShell.Tests.Unit.Architecture;

/// <summary>Source-level rules: no shell anywhere, and one place that starts programs.</summary>
public sealed partial class SecurityTests
{
    private static readonly string SourceRoot = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src"));

    private static IEnumerable<(string File, string Text)> Sources() =>
        Directory.EnumerateFiles(SourceRoot, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => (f, File.ReadAllText(f)));

    [Fact]
    public void The_sources_are_found()
    {
        Assert.True(Directory.Exists(SourceRoot), SourceRoot);
        Assert.True(Sources().Count() > 30);
    }

    [Fact]
    public void No_program_is_started_through_a_shell_or_with_a_command_string()
    {
        foreach (var (file, text) in Sources())
        {
            Assert.False(ShellPattern().IsMatch(text), $"{file} names a shell");
            Assert.DoesNotContain("UseShellExecute = true", text, StringComparison.Ordinal);
            Assert.False(ArgumentsString().IsMatch(text), $"{file} passes arguments as one string: use ArgumentList");
        }
    }

    [Fact]
    public void Only_ExternalTool_starts_processes()
    {
        var starters = Sources().Where(s => s.Text.Contains("new ProcessStartInfo", StringComparison.Ordinal)).Select(s => Path.GetFileName(s.File)).ToList();
        Assert.Equal(new[] { "ExternalTool.cs" }, starters);
    }

    [GeneratedRegex("\"(/bin/)?(ba|da|z)?sh\"")]
    private static partial Regex ShellPattern();

    [GeneratedRegex(@"\.Arguments\s*=")]
    private static partial Regex ArgumentsString();
}
