using DmPowerShell.Streams;

namespace DmPowerShell.Tests.Unit.Streams;

/// <summary>The volume stream format: what is written reads back verified; a cut, an altered byte or another format is refused, typed.</summary>
public sealed class VolumeStreamTests
{
    private static readonly VolumeStreamHeader Header = new()
    {
        Kind = VolumeStreamHeader.Incremental, SourcePool = "web", SourcePoolId = "abc", Volume = "s2", ThinId = 4,
        Identity = "abc/4/1", BaseIdentity = "abc/3/1", BaseName = "s1", Size = 64L << 20, BlockSize = 65536,
    };

    private static byte[] Stream()
    {
        using var output = new MemoryStream();
        var writer = new VolumeStreamWriter(output, Header);
        writer.WriteData(1 << 20, Enumerable.Range(0, 65536).Select(i => (byte)i).ToArray());
        writer.WriteUnmap(4 << 20, 1 << 20);
        writer.WriteData(8 << 20, new byte[512]);
        writer.Finish();
        Assert.Equal(output.Length, writer.Length);
        return output.ToArray();
    }

    private static (VolumeStreamHeader Header, List<StreamExtent> Extents) ReadAll(byte[] bytes)
    {
        var reader = new VolumeStreamReader(new MemoryStream(bytes), "test");
        var extents = new List<StreamExtent>();
        while (reader.Next() is { } extent) extents.Add(extent);
        Assert.True(reader.Completed);
        return (reader.Header, extents);
    }

    [Fact]
    public void What_is_written_reads_back_with_its_header()
    {
        var (header, extents) = ReadAll(Stream());
        Assert.Equal(Header with { Exported = header.Exported }, header);
        Assert.Equal(new[] { (StreamRecordKind.Data, 1L << 20, 65536L), (StreamRecordKind.Unmap, 4L << 20, 1L << 20), (StreamRecordKind.Data, 8L << 20, 512L) },
            extents.Select(e => (e.Kind, e.Offset, e.Length)));
        Assert.Equal(255, extents[0].Data.Span[255]);
    }

    [Fact]
    public void A_stream_cut_anywhere_is_refused()
    {
        var bytes = Stream();
        foreach (var length in new[] { 0, 5, 20, bytes.Length / 2, bytes.Length - 33, bytes.Length - 1 })
        {
            var error = Assert.Throws<DmPowerShellException>(() => ReadAll(bytes[..length]));
            Assert.Equal(ErrorIds.StreamCorrupt, error.ErrorId);
        }
    }

    [Fact]
    public void One_flipped_byte_anywhere_is_refused()
    {
        var bytes = Stream();
        for (var i = 0; i < bytes.Length; i += 97)
        {
            var copy = (byte[])bytes.Clone();
            copy[i] ^= 0x40;
            Assert.Throws<DmPowerShellException>(() => ReadAll(copy));
        }
    }
}
