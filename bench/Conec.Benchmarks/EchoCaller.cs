using Google.Protobuf;
using Grpc.Net.Client;

namespace Conec.Benchmarks;

/// <summary>
/// One caller of an echo service, Conec's or gRPC's, so that both are driven by the same loops (<see cref="EchoRuns"/>).
/// Made per run; disposing it ends what the run opened.
/// </summary>
internal interface IEchoCaller : IAsyncDisposable
{
    /// <summary>Calls Echo with <paramref name="payload"/>; returns the length of what came back.</summary>
    ValueTask<int> EchoAsync(byte[] payload);

    /// <summary>Calls Flood and yields the length of each item; stopping early cancels the call.</summary>
    IAsyncEnumerable<int> FloodAsync(int count, int size, CancellationToken cancellationToken = default);
}

/// <summary>Conec's caller: a generated <c>EchoClient</c> over one stream, however the stream was opened.</summary>
internal sealed class ConecEchoCaller(StreamPair stream) : IEchoCaller
{
    private readonly EchoClient _client = new(stream);

    public async ValueTask<int> EchoAsync(byte[] payload) => (await _client.Echo(payload, CancellationToken.None)).Length;

    public async IAsyncEnumerable<int> FloodAsync(int count, int size, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var item in _client.Flood(count, size, cancellationToken))
        {
            yield return item.Length;
        }
    }

    public ValueTask DisposeAsync() => _client.DisposeAsync();
}

/// <summary>gRPC's caller: a generated client over the shared channel (clients are cheap; the channel is what users keep).</summary>
internal sealed class GrpcEchoCaller(GrpcChannel channel) : IEchoCaller
{
    private readonly Grpc.GrpcEcho.GrpcEchoClient _client = new(channel);

    public async ValueTask<int> EchoAsync(byte[] payload) =>
        (await _client.EchoAsync(new Grpc.Payload { Data = UnsafeByteOperations.UnsafeWrap(payload) })).Data.Length;

    public async IAsyncEnumerable<int> FloodAsync(int count, int size, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Disposing the call cancels it, as leaving Conec's enumeration early cancels the remote handler.
        using var call = _client.Flood(new Grpc.FloodRequest { Count = count, Size = size }, cancellationToken: cancellationToken);
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            yield return call.ResponseStream.Current.Data.Length;
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
