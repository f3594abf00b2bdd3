using System.Runtime.CompilerServices;

namespace Conec.Benchmarks;

/// <summary>
/// The RPC contract `bench typed` pairs with gRPC: a unary call and a streamed result over byte arrays, the same two
/// shapes as the gRPC service in Protos/grpc_echo.proto. The generator turns it into <c>EchoClient</c> and <c>EchoServer</c>.
/// </summary>
[ConecStream]
public interface IEcho
{
    ValueTask<byte[]> Echo(byte[] payload, CancellationToken cancellationToken);

    IAsyncEnumerable<byte[]> Flood(int count, int size, CancellationToken cancellationToken);
}

/// <summary>The server side of <see cref="IEcho"/>: what <see cref="GrpcEchoService"/> does, with the same payloads.</summary>
internal sealed class EchoService : IEcho
{
    public ValueTask<byte[]> Echo(byte[] payload, CancellationToken cancellationToken) => ValueTask.FromResult(payload);

    public async IAsyncEnumerable<byte[]> Flood(int count, int size, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // One array sent count times, as the gRPC service sends one ByteString count times.
        var payload = new byte[size];
        for (var i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return payload;
        }
    }
}
