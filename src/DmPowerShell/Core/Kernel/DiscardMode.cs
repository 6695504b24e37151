namespace DmPowerShell.Kernel;

/// <summary>What a pool does with discards (the kernel's three feature words).</summary>
public enum DiscardMode
{
    /// <summary>Discards free pool blocks and are passed down to the data device (default).</summary>
    Passdown,
    /// <summary>Discards free pool blocks but are not passed down (no_discard_passdown).</summary>
    NoPassdown,
    /// <summary>Discards are ignored (ignore_discard).</summary>
    Ignore,
}
