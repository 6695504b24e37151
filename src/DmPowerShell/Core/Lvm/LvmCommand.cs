namespace DmPowerShell.Lvm;

/// <summary>One LVM command: a program and its argument list (never a shell string).</summary>
public sealed record LvmCommand(string Program, IReadOnlyList<string> Arguments)
{
    public override string ToString() =>
        string.Join(' ', new[] { Program }.Concat(Arguments.Select(a => a.Length > 0 && a.All(c => char.IsLetterOrDigit(c) || "-_./%=:+@".Contains(c)) ? a : $"'{a}'")));
}
