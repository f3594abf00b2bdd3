using System.Buffers;
using Conec.Protocol;
using CsCheck;

namespace Conec.Tests.Protocol;

/// <summary>The control-message, stream-header and stream-reply codecs: round trips, and hostile bytes refused cleanly.</summary>
public sealed class ProtocolCodecTests
{
    private static readonly Gen<string> Ids = Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789-"].Array[1, 40].Select(c => "c" + new string(c));

    private static readonly Gen<StreamHeader> Headers =
        Gen.Select(Gen.Int[1, 4], Ids, Gen.ULong, (kind, id, sid) =>
        {
            var k = (StreamHeaderKind)kind;
            return new StreamHeader(k, k is StreamHeaderKind.ToPeer or StreamHeaderKind.FromPeer ? id : null, sid);
        });

    [Fact]
    public void HellosAndRefusalsRoundTrip() =>
        Gen.Select(Ids, Gen.Int, Gen.Int[1, 22]).Sample((id, version, error) =>
        {
            Assert.Equal(ControlMessage.Hello(id, version), Decode(ControlMessage.Hello(id, version).Encode()));
            var refusal = ControlMessage.HelloRefused((ConecError)error, $"because {id}");
            Assert.Equal(refusal, Decode(refusal.Encode()));
        });

    [Fact]
    public void StreamHeadersRoundTrip() =>
        Headers.Sample(header => Assert.Equal(header, StreamHeader.Decode(new ReadOnlySequence<byte>(header.Encode()))));

    [Fact]
    public void StreamRepliesRoundTrip()
    {
        Assert.Null(StreamReply.Decode(new ReadOnlySequence<byte>(StreamReply.Accepted())));
        var refused = StreamReply.Decode(new ReadOnlySequence<byte>(StreamReply.Refused(ConecError.UnknownPeer, "no such client")));
        Assert.Equal((ConecError.UnknownPeer, "no such client"), (refused!.Error, refused.Message));
    }

    [Fact]
    public void ExtraFieldsFromANewerPeerAreIgnored()
    {
        // [1 (HelloAccepted), "future field"]
        byte[] withExtra = [0x92, 0x01, 0xA6, .. "future"u8];
        Assert.Equal(ControlTag.HelloAccepted, Decode(withExtra).Tag);
    }

    [Fact]
    public void ArbitraryBytesParseOrFailWithAProtocolViolation() =>
        Gen.Byte.Array[0, 48].Sample(bytes =>
        {
            AssertParsesOrViolates(() => ControlMessage.Decode(new ReadOnlySequence<byte>(bytes)));
            AssertParsesOrViolates(() => StreamHeader.Decode(new ReadOnlySequence<byte>(bytes)));
            AssertParsesOrViolates(() => StreamReply.Decode(new ReadOnlySequence<byte>(bytes)));
        }, iter: 100_000);

    [Fact]
    public void MutatedValidMessagesParseOrFailWithAProtocolViolation() =>
        Gen.Select(Headers, Gen.Int[0, 1000], Gen.Byte, Gen.Int[0, 64]).Sample((header, position, value, cut) =>
        {
            var bytes = header.Encode();
            bytes[position % bytes.Length] = value;
            var mutated = bytes.AsSpan(0, Math.Max(0, bytes.Length - (cut % 4))).ToArray();
            AssertParsesOrViolates(() => StreamHeader.Decode(new ReadOnlySequence<byte>(mutated)));
            AssertParsesOrViolates(() => ControlMessage.Decode(new ReadOnlySequence<byte>(mutated)));
        }, iter: 100_000);

    private static ControlMessage Decode(byte[] bytes) => ControlMessage.Decode(new ReadOnlySequence<byte>(bytes));

    private static void AssertParsesOrViolates(Action decode)
    {
        try
        {
            decode();
        }
        catch (ConecException e)
        {
            Assert.Equal(ConecError.ProtocolViolation, e.Error);
        }
    }
}
