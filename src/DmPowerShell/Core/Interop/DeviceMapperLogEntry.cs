namespace DmPowerShell.Interop;

/// <summary>One message libdevmapper wanted to log.</summary>
/// <remarks>The format's variadic arguments cannot be read from C#, so the text is the raw format.</remarks>
public sealed record DeviceMapperLogEntry(int Level, string? SourceFile, int SourceLine, int ErrnoOrClass, string? Format);
