using System.Buffers;
using System.IO.Pipelines;
using Conec.Protocol;
using Conec.Streams;
using Conec.Tests.Typed;
using CsCheck;

namespace Conec.Tests.Protocol;

/// <summary>
/// Hostile bytes at every decoder a peer can reach: each of 100,000 generated inputs parses or fails with a
/// <see cref="ConecException"/>, never another exception, a hang, or an allocation sized by a claimed length.
/// </summary>
public sealed class DecoderFuzzTests
{
    private const int Inputs = 100_000;

    [Fact]
    public void TheBroadcastTagParserRefusesGarbageCleanly() =>
        Gen.Byte.Array[0, 40].Sample(bytes => ParsesOr(ConecError.MalformedTag, () => BroadcastTag.Parse(bytes, decodeSender: true, out _, out _)), iter: Inputs);

    [Fact]
    public void TheRpcFrameParserRefusesGarbageCleanly() =>
        Gen.Byte.Array[0, 40].Sample(bytes => ParsesOr(ConecError.MalformedMessage, () =>
        {
            var frame = RpcFrame.Parse(bytes);
            if (frame.Kind == RpcFrame.Error)
            {
                RpcFrame.ReadError(frame.Rest);
            }
        }), iter: Inputs);

    [Fact]
    public void GeneratedDecodersRefuseGarbageCleanly() =>
        Gen.Byte.Array[0, 48].Sample(bytes => ParsesOr(ConecError.MalformedMessage, () => ChatReceiver.Decode(bytes)), iter: Inputs);

    [Fact]
    public void GeneratedDecodersRefuseMutatedMessagesCleanly()
    {
        var valid = new byte[][]
        {
            [0x92, .. Id(ChatMethodIds.Say), 0x92, 0xA2, (byte)'h', (byte)'i', 0x01],
            [0x93, .. Id(ChatMethodIds.Shout), 0xA1, (byte)'x', 0x03],
        };
        Gen.Select(Gen.Int[0, 1], Gen.Int[0, 100], Gen.Byte, Gen.Int[0, 3]).Sample((which, position, value, cut) =>
        {
            var bytes = (byte[])valid[which].Clone();
            bytes[position % bytes.Length] = value;
            ParsesOr(ConecError.MalformedMessage, () => ChatReceiver.Decode(bytes.AsMemory(0, bytes.Length - cut)));
        }, iter: Inputs);
    }

    [Fact]
    public void TheFrameReaderRefusesGarbageCleanlyAndNeverWaitsForAClaimedLength() =>
        Gen.Byte.Array[0, 64].Sample(bytes =>
        {
            var pipe = new Pipe();
            pipe.Writer.Write(bytes);
            pipe.Writer.Complete();
            try
            {
                // The input is complete, so every read finishes synchronously: a reader waiting for a claimed length would hang here.
                while (true)
                {
                    var read = SingleFrame.ReadAsync(pipe.Reader, 16, CancellationToken.None);
                    Assert.True(read.IsCompleted, "The frame reader waited on a complete input.");
                    if (read.Result is null)
                    {
                        break;
                    }
                }
            }
            catch (ConecException e)
            {
                Assert.True(e.Error is ConecError.MessageTooLarge or ConecError.TruncatedMessage, $"Unexpected {e.Error}.");
            }
        }, iter: Inputs);

    private static byte[] Id(int id) => [0xCE, (byte)(id >> 24), (byte)(id >> 16), (byte)(id >> 8), (byte)id];

    private static void ParsesOr(ConecError expected, Action decode)
    {
        try
        {
            decode();
        }
        catch (ConecException e)
        {
            Assert.Equal(expected, e.Error);
        }
    }
}
