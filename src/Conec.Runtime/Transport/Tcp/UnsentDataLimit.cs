using System.Net.Sockets;

namespace Conec.Transport.Tcp;

/// <summary>
/// Keeps what the kernel holds unsent on a connection's socket small (TCP_NOTSENT_LOWAT), so that on a slow link
/// data waits in the multiplexer's queue, where a small message can still overtake bulk, rather than in the
/// kernel's send buffer, where it cannot (docs/architecture.md, "Small messages beside bulk").
/// </summary>
internal static class UnsentDataLimit
{
    /// <summary>Enough unsent data to keep a fast link busy between two writes of the writer loop.</summary>
    public const int Bytes = 128 * 1024;

    private const int IpProtocolTcp = 6;
    private const int LinuxTcpNotSentLowWater = 25;
    private const int MacTcpNotSentLowWater = 0x201;

    /// <summary>Sets the limit where the platform has it; returns the reason when it could not be set.</summary>
    public static string? TryApply(Socket socket)
    {
        var option = OperatingSystem.IsLinux() ? LinuxTcpNotSentLowWater
            : OperatingSystem.IsMacOS() ? MacTcpNotSentLowWater
            : 0;
        if (option == 0)
        {
            return "this platform has no TCP_NOTSENT_LOWAT";
        }

        try
        {
            socket.SetRawSocketOption(IpProtocolTcp, option, BitConverter.GetBytes(Bytes));
            return null;
        }
        catch (SocketException e)
        {
            return e.Message;
        }
    }
}
