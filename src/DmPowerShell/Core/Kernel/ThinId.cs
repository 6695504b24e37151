using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DmPowerShell.Kernel;

/// <summary>A thin device id inside a pool: 24 bits. Stored in records as the plain number.</summary>
[JsonConverter(typeof(ThinIdJsonConverter))]
public readonly record struct ThinId : IComparable<ThinId>, IComparable
{
    public const uint Max = (1u << 24) - 1;

    public ThinId(uint value)
    {
        if (value > Max)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"A thin device id is at most {Max} (24 bits).");
        }
        Value = value;
    }

    public uint Value { get; }

    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);

    public static bool TryParse(string? text, out ThinId id)
    {
        id = default;
        if (!uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > Max)
        {
            return false;
        }
        id = new ThinId(value);
        return true;
    }

    public static implicit operator uint(ThinId id) => id.Value;

    // Records and listings are ordered by thin id.
    public int CompareTo(ThinId other) => Value.CompareTo(other.Value);

    public int CompareTo(object? other) => other is ThinId id ? CompareTo(id) : throw new ArgumentException("not a thin id", nameof(other));
}
