using System.Buffers;
using Conec.Typed.Internal;
using CsCheck;
using MessagePack;

namespace Conec.Tests.Typed;

/// <summary>
/// The code the generator writes for values (instead of MessagePack's reflection-based resolvers) keeps MessagePack's
/// own wire layout for every shape, so either end may use either; and hostile input fails cleanly.
/// </summary>
public sealed class GeneratedCodecTests
{
    private static readonly MessagePackSerializerOptions Reflection = MessagePackSerializerOptions.Standard;

    [Fact]
    public void GeneratedCodeWritesByteForByteWhatMessagePacksOwnFormattersWrite()
    {
        foreach (var value in new[] { Full(), Sparse() })
        {
            var generated = Write(value);
            var reference = MessagePackSerializer.Serialize(value, Reflection, TestContext.Current.CancellationToken);
            Assert.Equal(Convert.ToHexString(reference), Convert.ToHexString(generated));

            // Reading MessagePack's bytes with the generated code gives back a value MessagePack writes identically.
            var reader = new MessagePackReader(reference);
            var read = ShapesValues.ReadEverything(ref reader);
            Assert.Equal(reference, MessagePackSerializer.Serialize(read, Reflection, TestContext.Current.CancellationToken));
        }
    }

    [Fact]
    public void AWholeMessageDecodesToTheUnionWithEveryArgument()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = TypedMessages.Begin(buffer, ShapesMethodIds.Send, 3);
        ShapesCodec.WriteSend(ref writer, Full(), Shade.Dark);
        writer.Flush();

        var message = Assert.IsType<ShapesMessage.Send>(ShapesReceiver.Decode(buffer.WrittenMemory));
        Assert.Equal(Shade.Dark, message.Shade);
        Assert.Equal(Write(Full()), Write(message.Value));
    }

    [Fact]
    public void MutatedMessagesDecodeOrFailAsMalformedAndNothingElse()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = TypedMessages.Begin(buffer, ShapesMethodIds.Send, 3);
        ShapesCodec.WriteSend(ref writer, Full(), null);
        writer.Flush();
        var valid = buffer.WrittenMemory.ToArray();

        Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte, Gen.Int[0, 8]).Sample((position, value, cut) =>
        {
            var bytes = (byte[])valid.Clone();
            bytes[position] = value;
            try
            {
                ShapesReceiver.Decode(bytes.AsMemory(0, bytes.Length - cut));
            }
            catch (ConecException e)
            {
                Assert.Equal(ConecError.MalformedMessage, e.Error);
            }
        }, iter: 20_000);
    }

    [Fact]
    public void NestingDeeperThanTheLimitIsAMalformedMessageNotAStackOverflow()
    {
        Assert.IsType<ShapesMessage.Plant>(ShapesReceiver.Decode(Nested(200)));
        var tooDeep = Assert.Throws<ConecException>(() => ShapesReceiver.Decode(Nested(100_000)));
        Assert.Equal(ConecError.MalformedMessage, tooDeep.Error);
    }

    /// <summary>A Plant message whose tree is <paramref name="depth"/> nodes deep, each node's only child the next.</summary>
    private static byte[] Nested(int depth)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = TypedMessages.Begin(buffer, ShapesMethodIds.Plant, 2);
        for (var i = 0; i < depth; i++)
        {
            writer.WriteArrayHeader(1); // a Node: [Children]
            writer.WriteArrayHeader(1); // Children: [Node]
        }

        writer.WriteArrayHeader(0); // the last Node, without Children (a list of Node holds no nil)
        writer.Flush();
        return buffer.WrittenMemory.ToArray();
    }

    private static byte[] Write(Everything value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        ShapesValues.WriteEverything(ref writer, value);
        writer.Flush();
        return buffer.WrittenMemory.ToArray();
    }

    private static Everything Full() => new()
    {
        Flag = true,
        Small = 200,
        SignedSmall = -100,
        Medium = -30_000,
        UnsignedMedium = 60_000,
        Number = int.MinValue,
        UnsignedNumber = uint.MaxValue,
        Large = long.MinValue,
        UnsignedLarge = ulong.MaxValue,
        Fraction = 1.5f,
        Real = Math.PI,
        Letter = 'é',
        Text = "héllo",
        Maybe = "there",
        Blob = [1, 2, 3, 255],
        When = new DateTime(2026, 11, 26, 15, 30, 0, DateTimeKind.Utc),
        Span = TimeSpan.FromMilliseconds(1234.5),
        Id = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"),
        Shade = Shade.Dark,
        Optional = 42,
        Numbers = [1, -1, 1_000_000],
        Names = ["a", "b"],
        Counts = new() { ["x"] = 1, ["y"] = -2 },
        Leaves = [new Leaf("l1", 0.5), new Leaf("l2", 2)],
        OneLeaf = new Leaf("one", 1),
        At = new Point(3, -4),
        MaybeAt = new Point(5, 6),
        Jagged = [[1], [], [2, 3]],
        Money = 12.345m,
        ById = new Dictionary<int, Leaf?> { [1] = new Leaf("a", 1), [2] = null },
    };

    private static Everything Sparse() => new() { Maybe = null, OneLeaf = null, MaybeAt = null, Optional = null, Blob = [] };
}
