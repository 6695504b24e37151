using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;

namespace DmPowerShell.Streams;

/// <summary>
/// Writes a volume stream: magic, header, records each with its own SHA-256, and a trailer whose
/// SHA-256 covers every byte before it but the data payloads, which their records' hashes cover
/// (each byte is hashed once: under the guest's emulation hashing bounds the throughput). The
/// format is about_DmPowerShell_Streams.
/// </summary>
public sealed class VolumeStreamWriter
{
    /// <summary>"DMPSVOL" and a newline: a stream is recognised by its first 8 bytes.</summary>
    public static ReadOnlySpan<byte> Magic => "DMPSVOL\n"u8;

    /// <summary>The largest data record: a receiver holds one record in memory to verify it before writing.</summary>
    public const int MaxRecordBytes = 1 << 20;

    private readonly Stream output;
    private readonly IncrementalHash whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public VolumeStreamWriter(Stream output, VolumeStreamHeader header)
    {
        this.output = output;
        var json = JsonSerializer.SerializeToUtf8Bytes(header, StreamJson.Options);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)json.Length);
        Write(Magic);
        Write(length);
        Write(json);
    }

    public long Records { get; private set; }

    public long DataBytes { get; private set; }

    /// <summary>Bytes written so far.</summary>
    public long Length { get; private set; }

    public void WriteData(long offset, ReadOnlySpan<byte> data)
    {
        if (data.Length > MaxRecordBytes) throw new ArgumentOutOfRangeException(nameof(data), "A data record holds 1 MiB at most.");
        Span<byte> fields = stackalloc byte[13];
        fields[0] = (byte)StreamRecordKind.Data;
        BinaryPrimitives.WriteInt64LittleEndian(fields[1..], offset);
        BinaryPrimitives.WriteUInt32LittleEndian(fields[9..], (uint)data.Length);
        WriteRecord(fields, data);
        DataBytes += data.Length;
    }

    public void WriteUnmap(long offset, long length)
    {
        Span<byte> fields = stackalloc byte[17];
        fields[0] = (byte)StreamRecordKind.Unmap;
        BinaryPrimitives.WriteInt64LittleEndian(fields[1..], offset);
        BinaryPrimitives.WriteInt64LittleEndian(fields[9..], length);
        WriteRecord(fields, ReadOnlySpan<byte>.Empty);
    }

    /// <summary>The trailer; without it a receiver refuses the stream as cut short.</summary>
    public void Finish()
    {
        Span<byte> fields = stackalloc byte[17];
        fields[0] = (byte)StreamRecordKind.End;
        BinaryPrimitives.WriteInt64LittleEndian(fields[1..], Records);
        BinaryPrimitives.WriteInt64LittleEndian(fields[9..], DataBytes);
        Write(fields);
        Span<byte> hash = stackalloc byte[32];
        whole.GetHashAndReset(hash);
        output.Write(hash);
        Length += hash.Length;
        output.Flush();
    }

    private void WriteRecord(ReadOnlySpan<byte> fields, ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[32];
        using (var record = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            record.AppendData(fields);
            record.AppendData(data);
            record.GetHashAndReset(hash);
        }
        Write(fields);
        // The payload is covered by the record's own hash, which the whole-stream hash covers: hashed once.
        output.Write(data);
        Length += data.Length;
        Write(hash);
        Records++;
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        whole.AppendData(bytes);
        output.Write(bytes);
        Length += bytes.Length;
    }
}
