using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;

namespace DmPowerShell.Streams;

/// <summary>
/// Reads a volume stream, verifying as it goes: each record against its own SHA-256 before it is
/// handed out, and the whole stream (its payloads through their records' hashes) against the trailer's. A stream cut short, altered or not a
/// volume stream at all is a typed error (StreamCorrupt); <see cref="Completed"/> is true only
/// once the trailer has been read and checked.
/// </summary>
public sealed class VolumeStreamReader
{
    private readonly Stream input;
    private readonly string source;
    private readonly IncrementalHash whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long records, dataBytes;

    /// <param name="source">Where the stream comes from, for messages (a path, or "standard input").</param>
    public VolumeStreamReader(Stream input, string source)
    {
        this.input = input;
        this.source = source;
        var magic = new byte[8];
        if (!TryRead(magic) || !magic.AsSpan().SequenceEqual(VolumeStreamWriter.Magic))
        {
            throw Corrupt("it does not start as a DmPowerShell volume stream (Export-ThinVolume writes them)");
        }
        var length = BinaryPrimitives.ReadUInt32LittleEndian(Read(4, "the header"));
        if (length > 1 << 20) throw Corrupt($"its header claims {length} bytes");
        try
        {
            Header = JsonSerializer.Deserialize<VolumeStreamHeader>(Read((int)length, "the header"), StreamJson.Options)
                ?? throw Corrupt("its header is empty");
        }
        catch (JsonException e)
        {
            throw Corrupt($"its header is not readable ({e.Message})");
        }
        if (Header.Format != 1) throw Corrupt($"it is of format {Header.Format}; this version reads format 1");
    }

    public VolumeStreamHeader Header { get; }

    /// <summary>Whether the trailer was read and the whole stream's hash matched.</summary>
    public bool Completed { get; private set; }

    /// <summary>The next verified record; null after the trailer.</summary>
    public StreamExtent? Next()
    {
        if (Completed) return null;
        var kind = (StreamRecordKind)Read(1, "a record")[0];
        switch (kind)
        {
            case StreamRecordKind.Data:
            {
                var fields = Read(12, "a data record");
                var offset = BinaryPrimitives.ReadInt64LittleEndian(fields);
                var length = BinaryPrimitives.ReadUInt32LittleEndian(fields.AsSpan(8));
                if (length > VolumeStreamWriter.MaxRecordBytes) throw Corrupt($"a data record claims {length} bytes");
                var data = Read((int)length, "a data record", hashed: false);
                Verify(kind, fields, data);
                records++;
                dataBytes += length;
                return new StreamExtent(kind, offset, length, data);
            }
            case StreamRecordKind.Unmap:
            {
                var fields = Read(16, "an unmap record");
                Verify(kind, fields, Array.Empty<byte>());
                records++;
                return new StreamExtent(kind, BinaryPrimitives.ReadInt64LittleEndian(fields), BinaryPrimitives.ReadInt64LittleEndian(fields.AsSpan(8)), ReadOnlyMemory<byte>.Empty);
            }
            case StreamRecordKind.End:
            {
                var fields = Read(16, "the trailer");
                var expected = whole.GetHashAndReset();
                var hash = new byte[32];
                if (!TryRead(hash, hashed: false)) throw Corrupt("it ends inside the trailer");
                if (BinaryPrimitives.ReadInt64LittleEndian(fields) != records || BinaryPrimitives.ReadInt64LittleEndian(fields.AsSpan(8)) != dataBytes)
                {
                    throw Corrupt("its trailer counts other records than it holds");
                }
                if (!hash.AsSpan().SequenceEqual(expected)) throw Corrupt("its SHA-256 does not match its trailer (a byte was changed)");
                Completed = true;
                return null;
            }
            default:
                throw Corrupt($"a record of unknown kind 0x{(byte)kind:x2} follows {records} records (a byte was changed, or it is cut)");
        }
    }

    private void Verify(StreamRecordKind kind, byte[] fields, byte[] data)
    {
        var hash = new byte[32];
        if (!TryRead(hash)) throw Corrupt($"it ends inside record {records + 1}");
        using var record = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        record.AppendData(new[] { (byte)kind });
        record.AppendData(fields);
        record.AppendData(data);
        if (!record.GetHashAndReset().AsSpan().SequenceEqual(hash))
        {
            throw Corrupt($"record {records + 1} does not match its SHA-256 (a byte was changed)");
        }
    }

    private byte[] Read(int count, string what, bool hashed = true)
    {
        var buffer = new byte[count];
        if (!TryRead(buffer, hashed)) throw Corrupt($"it ends inside {what}: it was cut short");
        return buffer;
    }

    /// <summary>Fills the buffer; false at the end of the input first.</summary>
    private bool TryRead(byte[] buffer, bool hashed = true)
    {
        var done = 0;
        while (done < buffer.Length)
        {
            var n = input.Read(buffer, done, buffer.Length - done);
            if (n == 0) return false;
            done += n;
        }
        if (hashed) whole.AppendData(buffer);
        return true;
    }

    private DmPowerShellException Corrupt(string why) =>
        new(ErrorIds.StreamCorrupt, ErrorKind.InvalidData, $"The volume stream from {source} is refused: {why}. Nothing of it was kept.", source);
}
