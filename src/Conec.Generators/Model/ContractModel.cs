namespace Conec.Generators.Model;

/// <summary>
/// Everything the emitter needs about one <c>[ConecStream]</c> interface, as plain strings and numbers: no symbols,
/// syntax or compilation, so an unchanged contract compares equal and its output is reused.
/// </summary>
internal sealed record ContractModel(
    string? Namespace,
    string InterfaceName,
    string InterfaceReference,
    string BaseName,
    bool IsPublic,
    EquatableArray<MethodModel> Methods,
    EquatableArray<MessageTypeModel> MessageTypes,
    EquatableArray<HelperModel> Helpers);

/// <summary>One contract method.</summary>
internal sealed record MethodModel(
    string Name,
    int Id,
    MessageKind Kind,
    bool ReturnsTask,
    string? ResultType,
    CodecModel? ResultCodec,
    EquatableArray<ParameterModel> Parameters,
    string? CancellationTokenName,
    StreamedParameterModel? Streamed = null);

/// <summary>
/// The one <c>IAsyncEnumerable&lt;T&gt;</c> parameter of a method whose caller streams items to the server:
/// <see cref="ItemType"/> and <see cref="Codec"/> are of one item, <see cref="Position"/> its place among the
/// method's parameters (the token aside), since it travels apart from the serialized ones.
/// </summary>
internal sealed record StreamedParameterModel(string Name, string ItemType, CodecModel Codec, int Position);

/// <summary>One serialized parameter.</summary>
internal sealed record ParameterModel(string Name, string Type, CodecModel Codec);

/// <summary>How a method travels.</summary>
internal enum MessageKind
{
    /// <summary>A one-way message: returns Task or ValueTask and is not marked as a call.</summary>
    OneWay,

    /// <summary>A call without a result: the caller waits for the handler to finish (also a Task or ValueTask with a streamed parameter).</summary>
    Call,

    /// <summary>A call with a result.</summary>
    CallWithResult,

    /// <summary>A call whose result is streamed: <c>IAsyncEnumerable&lt;T&gt;</c>.</summary>
    Stream,
}
