namespace DmPowerShell.Interop;

/// <summary>A libc call failed; carries the errno, never parsed text.</summary>
public sealed class NativeCallException : IOException
{
    public NativeCallException(string call, string? path, int errno)
        : base($"{call}{(path is null ? "" : $" '{path}'")} failed: {Interop.Errno.Describe(errno)}")
    {
        Call = call;
        Path = path;
        Errno = errno;
        HResult = errno;
    }

    public string Call { get; }
    public string? Path { get; }
    public int Errno { get; }
}
