using System.Net.Sockets;

namespace DmPowerShell.Monitoring;

/// <summary>
/// Sends events to journald over its native socket when the process runs under systemd with
/// its output in the journal (JOURNAL_STREAM set): each event one entry with its own fields.
/// </summary>
public sealed class JournalSink : IDisposable
{
    public const string SocketPath = "/run/systemd/journal/socket";

    private readonly Socket socket;

    private JournalSink(Socket socket) => this.socket = socket;

    /// <summary>A sink when systemd gave this process the journal (JOURNAL_STREAM) and its socket exists; otherwise null.</summary>
    public static JournalSink? FromEnvironment(string socketPath = SocketPath)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM")) || !File.Exists(socketPath))
        {
            return null;
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            return new JournalSink(socket);
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }

    /// <summary>Sends one event; a journal that does not take it loses that entry, never the watch.</summary>
    public void Send(ThinPoolEvent e)
    {
        try
        {
            socket.Send(JournalEntry.Encode(JournalEntry.Fields(e)));
        }
        catch (SocketException)
        {
            // journald restarting or gone: the event still went to the pipeline.
        }
    }

    public void Dispose() => socket.Dispose();
}
