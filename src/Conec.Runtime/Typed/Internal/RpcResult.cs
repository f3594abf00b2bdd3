using System.ComponentModel;
using MessagePack;

namespace Conec.Typed.Internal;

/// <summary>What an RPC handler returned, already serialized (generated servers produce it; the server loop sends it).</summary>
/// <remarks>For generated code: public only because that code compiles into users' assemblies.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly struct RpcResult : IEquatable<RpcResult>
{
    private static readonly byte[] Nil = [MessagePackCode.Nil];

    private RpcResult(ReadOnlyMemory<byte> value) => Value = value;

    /// <summary>The result for methods that return no value.</summary>
    public static RpcResult Void => new(Nil);

    /// <summary>The serialized value (a single MessagePack object).</summary>
    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>A result already serialized as one MessagePack value (generated servers write it with the contract's own writer).</summary>
    public static RpcResult FromSerialized(ReadOnlyMemory<byte> value) => new(value);

    /// <inheritdoc/>
    public bool Equals(RpcResult other) => Value.Span.SequenceEqual(other.Value.Span);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is RpcResult other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Value.Length;

    /// <summary>Compares two results by their bytes.</summary>
    public static bool operator ==(RpcResult left, RpcResult right) => left.Equals(right);

    /// <summary>Compares two results by their bytes.</summary>
    public static bool operator !=(RpcResult left, RpcResult right) => !left.Equals(right);
}
