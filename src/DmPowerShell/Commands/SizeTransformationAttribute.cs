using System.Management.Automation;
using DmPowerShell.Units;

namespace DmPowerShell.Commands;

/// <summary>
/// Binds a size given as a number (10GB, PowerShell's binary literal) or as a string with a
/// unit ("10G", "10GB", "10GiB", "512MiB"); all units are binary, 1KB = 1024.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SizeTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        switch (value)
        {
            case null:
                return null;
            case string text:
                if (ByteSize.TryParse(text, out var bytes)) return bytes;
                throw new ArgumentTransformationMetadataException(
                    $"'{text}' is not a size. Use a number of bytes or a number with a binary unit: 512MB, 10G, 10GiB (1KB = 1024 bytes).");
            case int or long or short or byte or uint or ushort or sbyte:
                return Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
            case ulong big when big <= long.MaxValue:
                return (long)big;
            case double or float or decimal:
                var number = Convert.ToDecimal(value, System.Globalization.CultureInfo.InvariantCulture);
                if (number == decimal.Truncate(number) && number <= long.MaxValue && number >= long.MinValue) return (long)number;
                throw new ArgumentTransformationMetadataException($"{value} is not a whole number of bytes.");
            default:
                throw new ArgumentTransformationMetadataException($"A size cannot be made from a {value.GetType().Name}.");
        }
    }
}
