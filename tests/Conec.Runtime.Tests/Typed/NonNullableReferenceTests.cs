using MessagePack;

namespace Conec.Tests.Typed;

/// <summary>
/// A peer's nil, or a key it leaves out, never becomes null in a non-nullable reference: the generated readers fail
/// with <see cref="ConecError.MalformedMessage"/>, while members and parameters declared nullable still accept both.
/// </summary>
public sealed class NonNullableReferenceTests
{
    private static readonly byte[] Nil = [0xC0];

    [Fact]
    public void ANilStringInANonNullableMemberIsMalformed()
    {
        var line = Pack(null, 1); // ChatLine: [Text, Mood]
        AssertMalformed(() => ReadWithFormatter<ChatLine>(line));
        AssertMalformed(() => Read(line, ChatValues.ReadChatLine));
    }

    [Fact]
    public void AnArrayTooShortForANonNullableMemberIsMalformed()
    {
        AssertMalformed(() => ReadWithFormatter<ChatLine>(Pack())); // ChatLine: [Text, Mood], neither sent
        AssertMalformed(() => Read(Pack(), ShapesValues.ReadLeaf)); // Leaf: [Name, (gap), Weight]
    }

    [Fact]
    public void ANilStringArgumentIsMalformedInAMessageAndInACall()
    {
        AssertMalformed(() => ChatReceiver.Decode(Pack(ChatMethodIds.Shout, null, 2))); // [Shout, text, times]
        AssertMalformed(() => ChatCodec.ReadDescribe(Pack(new object?[] { null, 0 }))); // Describe's arguments: [line]
    }

    [Fact]
    public void ANilResultOrElementWhereTheContractPromisesAValueIsMalformed()
    {
        AssertMalformed(() => ChatCodec.DecodeDescribeResult(Nil));
        AssertMalformed(() => Read(Pack("a", null), ShapesValues.ReadListOfString));
    }

    [Fact]
    public void NullableReferencesStillAcceptNilAndMissingKeys()
    {
        Assert.Equal(new ShapesMessage.Caption(null, "text"), ShapesReceiver.Decode(Pack(ShapesMethodIds.Caption, null, "text")));
        Assert.Null(Read(Pack(), ShapesValues.ReadNode)!.Children); // Node: [Children], Children left out
        Assert.Null(Read(Nil, ShapesValues.ReadNode));
    }

    private static T Read<T>(byte[] bytes, Reader<T> read)
    {
        var reader = new MessagePackReader(bytes);
        return read(ref reader);
    }

    /// <summary>Reads through the generated formatter itself: MessagePackSerializer would wrap its exception in its own.</summary>
    private static T ReadWithFormatter<T>(byte[] bytes)
    {
        var reader = new MessagePackReader(bytes);
        return ChatResolver.Instance.GetFormatter<T>()!.Deserialize(ref reader, ChatResolver.Options);
    }

    private static void AssertMalformed(Func<object?> read)
    {
        var e = Assert.Throws<ConecException>(read);
        Assert.Equal(ConecError.MalformedMessage, e.Error);
    }

    /// <summary>A MessagePack array of <paramref name="items"/>, written by MessagePack itself (nil for null).</summary>
    private static byte[] Pack(params object?[] items) => MessagePackSerializer.Serialize(items, MessagePackSerializerOptions.Standard);

    private delegate T Reader<out T>(ref MessagePackReader reader);
}
