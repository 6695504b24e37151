namespace DmPowerShell.Kernel;

/// <summary>The parameters of a thin target: `&lt;pool dev&gt; &lt;dev id&gt; [&lt;external origin dev&gt;]`.</summary>
public sealed record ThinTable(string PoolDevice, ThinId DeviceId, string? ExternalOrigin = null)
{
    public const string TargetType = "thin";

    public string ToParameters() => ExternalOrigin is null ? $"{PoolDevice} {DeviceId}" : $"{PoolDevice} {DeviceId} {ExternalOrigin}";

    public DmTarget ToTarget(ulong lengthSectors) => new(0, lengthSectors, TargetType, ToParameters());

    public static ThinTable Parse(string parameters)
    {
        var words = parameters.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length is < 2 or > 3 || !ThinId.TryParse(words[1], out var id))
        {
            throw new FormatException($"'{parameters}' is not a thin table.");
        }
        return new ThinTable(words[0], id, words.Length == 3 ? words[2] : null);
    }
}
