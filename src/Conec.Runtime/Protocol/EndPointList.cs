using System.Net;
using MessagePack;

namespace Conec.Protocol;

/// <summary>
/// Candidate addresses of a direct channel's peer on the wire: <c>[[address, port], …]</c>, at most
/// <see cref="MaxCount"/> of them (a hello's own addresses and the observed one, with room to spare).
/// </summary>
internal static class EndPointList
{
    public const int MaxCount = 16;

    public static void Write(ref MessagePackWriter writer, IReadOnlyList<IPEndPoint> endPoints)
    {
        writer.WriteArrayHeader(endPoints.Count);
        foreach (var endPoint in endPoints)
        {
            writer.WriteArrayHeader(2);
            writer.Write(endPoint.Address.ToString());
            writer.Write(endPoint.Port);
        }
    }

    /// <exception cref="FormatException">An address does not parse (the callers report it as a malformed message).</exception>
    public static IPEndPoint[] Read(ref MessagePackReader reader)
    {
        var count = reader.ReadArrayHeader();
        if (count > MaxCount)
        {
            throw WireFormatException.Malformed($"candidate list ({count} addresses, at most {MaxCount})");
        }

        var endPoints = new IPEndPoint[count];
        for (var i = 0; i < count; i++)
        {
            if (reader.ReadArrayHeader() != 2)
            {
                throw WireFormatException.Malformed("candidate address");
            }

            endPoints[i] = new IPEndPoint(IPAddress.Parse(ControlMessage.ReadString(ref reader)), reader.ReadUInt16());
        }

        return endPoints;
    }
}
