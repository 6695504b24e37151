namespace DmPowerShell.Storage;

/// <summary>The result of a helper program (blkid, mkfs, thin_check ...).</summary>
public sealed record ToolResult(string Program, int ExitCode, string Output, string Error);
