namespace DmPowerShell.Kernel;

/// <summary>The pool's I/O mode from its status line.</summary>
public enum PoolMode
{
    ReadWrite,
    ReadOnly,
    OutOfDataSpace,
}
