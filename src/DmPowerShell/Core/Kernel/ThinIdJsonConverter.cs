using System.Text.Json;
using System.Text.Json.Serialization;

namespace DmPowerShell.Kernel;

/// <summary>A thin id in JSON is its number, as records of earlier versions wrote it.</summary>
public sealed class ThinIdJsonConverter : JsonConverter<ThinId>
{
    public override ThinId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => new(reader.GetUInt32());

    public override void Write(Utf8JsonWriter writer, ThinId value, JsonSerializerOptions options) => writer.WriteNumberValue(value.Value);
}
