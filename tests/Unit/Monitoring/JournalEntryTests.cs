using System.Text;
using DmPowerShell.Kernel;
using DmPowerShell.Monitoring;
using Xunit;

namespace DmPowerShell.Tests.Unit.Monitoring;

public sealed class JournalEntryTests
{
    private static ThinPoolEvent Extended() => new()
    {
        Name = "web", DeviceName = "web", Kind = PoolEventKind.Extended, Space = PoolSpace.Data, Mode = PoolMode.ReadWrite,
        DataUsedPercent = 81.25, DataSpaceTotal = 320L << 20, OldSize = 256L << 20, NewSize = 320L << 20,
        Message = "data grown from 256 MiB to 320 MiB at 81.25% used",
    };

    [Fact]
    public void An_extension_carries_the_fields_journalctl_selects_on()
    {
        var fields = JournalEntry.Fields(Extended()).ToDictionary(f => f.Name, f => f.Value);
        Assert.Equal("web Extended: data grown from 256 MiB to 320 MiB at 81.25% used", fields["MESSAGE"]);
        Assert.Equal("6", fields["PRIORITY"]);
        Assert.Equal("dmpowershell-watch", fields["SYSLOG_IDENTIFIER"]);
        Assert.Equal("web", fields["POOL"]);
        Assert.Equal("Extended", fields["POOL_EVENT"]);
        Assert.Equal("Data", fields["POOL_SPACE"]);
        Assert.Equal("268435456", fields["OLD_SIZE"]);
        Assert.Equal("335544320", fields["NEW_SIZE"]);
        Assert.Equal("81.25", fields["DATA_USED_PERCENT"]);
        Assert.False(fields.ContainsKey("ERROR_ID"));
        // Field names as journald takes them: upper case, digits and underscores, not starting with one.
        Assert.All(fields.Keys, k => Assert.Matches("^[A-Z][A-Z0-9_]*$", k));
    }

    [Fact]
    public void What_an_operator_must_act_on_is_a_warning_or_worse()
    {
        Assert.Equal(3, JournalEntry.Priority(Extended() with { Kind = PoolEventKind.ExtensionFailed, ErrorId = "NoSpace" }));
        Assert.Equal(3, JournalEntry.Priority(Extended() with { Kind = PoolEventKind.ModeChanged, Mode = PoolMode.OutOfDataSpace }));
        Assert.Equal(4, JournalEntry.Priority(Extended() with { Kind = PoolEventKind.LimitReached }));
        Assert.Equal(6, JournalEntry.Priority(Extended() with { Kind = PoolEventKind.Started }));
    }

    [Fact]
    public void The_native_protocol_writes_plain_values_as_lines_and_others_with_their_length()
    {
        var bytes = JournalEntry.Encode(new[] { ("MESSAGE", "one line"), ("DETAIL", "two\nlines") });
        var expected = new List<byte>();
        expected.AddRange(Encoding.ASCII.GetBytes("MESSAGE=one line\nDETAIL\n"));
        expected.AddRange(BitConverter.GetBytes(9UL));
        expected.AddRange(Encoding.ASCII.GetBytes("two\nlines\n"));
        Assert.Equal(expected.ToArray(), bytes);
    }
}
