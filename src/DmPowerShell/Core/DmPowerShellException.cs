namespace DmPowerShell;

/// <summary>
/// A failure the module explains to its user: a stable id (documented in about_DmPowerShell),
/// a kind, the object it concerns, and a message that says what to do.
/// </summary>
public class DmPowerShellException : Exception
{
    public DmPowerShellException(string errorId, ErrorKind kind, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }

    public string ErrorId { get; }
    public ErrorKind Kind { get; }
    public object? Target { get; }
}
