using System.Buffers;
using System.Net;
using Conec.Protocol;
using MessagePack;

namespace Conec.Tests.Protocol;

/// <summary>The hole-punching fields: they round trip, and a peer that predates them is read as not punching.</summary>
public sealed class PunchCodecTests
{
    private static readonly IPEndPoint[] Candidates = [new(IPAddress.Parse("198.18.1.2"), 40001), new(IPAddress.Parse("10.1.0.2"), 40001)];

    [Fact]
    public void AHelloCarriesSharingAndOwnAddresses()
    {
        var hello = ControlMessage.Hello("alice", ProtocolConstants.Version, 40001) with { SharesPort = true, LocalAddresses = [IPAddress.Parse("10.1.0.2")] };
        Assert.Equal(hello, ControlMessage.Decode(new ReadOnlySequence<byte>(hello.Encode())));
    }

    [Fact]
    public void AnOfferAndAReplyCarryCandidatesAndThePunchFlag()
    {
        var offer = new StreamHeader(StreamHeaderKind.ChannelOffer, "alice", 7)
        {
            Certificate = [1, 2, 3],
            EndPoint = Candidates[0],
            Punch = true,
            Candidates = Candidates,
        };
        var decoded = StreamHeader.Decode(new ReadOnlySequence<byte>(offer.Encode()));
        Assert.True(decoded.Punch);
        Assert.Equal(Candidates, decoded.Candidates);

        var route = StreamReply.DecodeChannel(new ReadOnlySequence<byte>(StreamReply.Channel(new ChannelRoute(Candidates[0], [4, 5], true, Candidates))));
        Assert.Equal((Candidates[0], true), (route.EndPoint, route.Punch));
        Assert.Equal(Candidates, route.Candidates);
    }

    [Fact]
    public void MessagesWithoutTheNewFieldsMeanNoPunching()
    {
        // The layouts before hole punching: a 4-field hello, a 6-field offer, a 4-field reply.
        var hello = ControlMessage.Decode(Encode((ref MessagePackWriter w) => { w.WriteArrayHeader(4); w.Write(0); w.Write("alice"); w.Write(1); w.Write(40001); }));
        Assert.Equal((40001, false, 0), (hello.ListenPort, hello.SharesPort, hello.LocalAddresses.Count));
        var offer = StreamHeader.Decode(Encode((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(6); w.Write(8); w.Write("alice"); w.Write(7UL); w.Write(new byte[] { 1 }); w.Write("198.18.1.2"); w.Write(40001);
        }));
        Assert.Equal((false, 0), (offer.Punch, offer.Candidates.Count));
        var route = StreamReply.DecodeChannel(Encode((ref MessagePackWriter w) => { w.WriteArrayHeader(4); w.Write(0); w.Write("198.18.1.2"); w.Write(40001); w.Write(new byte[] { 1 }); }));
        Assert.Equal((false, 0), (route.Punch, route.Candidates.Count));
    }

    [Fact]
    public void TooManyOrMalformedCandidatesAreProtocolViolations()
    {
        var many = Encode((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(6); w.Write(0); w.Write("198.18.1.2"); w.Write(40001); w.Write(new byte[] { 1 }); w.Write(true);
            w.WriteArrayHeader(EndPointList.MaxCount + 1);
            for (var i = 0; i <= EndPointList.MaxCount; i++)
            {
                w.WriteArrayHeader(2); w.Write("10.0.0.1"); w.Write(1);
            }
        });
        Assert.Equal(ConecError.ProtocolViolation, Assert.Throws<ConecException>(() => StreamReply.DecodeChannel(many)).Error);
        var unparsable = Encode((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(6); w.Write(0); w.Write("198.18.1.2"); w.Write(40001); w.Write(new byte[] { 1 }); w.Write(true);
            w.WriteArrayHeader(1); w.WriteArrayHeader(2); w.Write("not an address"); w.Write(1);
        });
        Assert.Equal(ConecError.ProtocolViolation, Assert.Throws<ConecException>(() => StreamReply.DecodeChannel(unparsable)).Error);
    }

    private delegate void Writing(ref MessagePackWriter writer);

    private static ReadOnlySequence<byte> Encode(Writing write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return new ReadOnlySequence<byte>(buffer.WrittenMemory);
    }
}
