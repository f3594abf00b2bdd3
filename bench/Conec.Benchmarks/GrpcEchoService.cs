using Google.Protobuf;
using Grpc.Core;

namespace Conec.Benchmarks;

/// <summary>The gRPC side of the typed RPC comparison: <see cref="EchoService"/> as a Grpc.Tools-generated service.</summary>
internal sealed class GrpcEchoService : Grpc.GrpcEcho.GrpcEchoBase
{
    public override Task<Grpc.Payload> Echo(Grpc.Payload request, ServerCallContext context) => Task.FromResult(request);

    public override async Task Flood(Grpc.FloodRequest request, IServerStreamWriter<Grpc.Payload> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);

        // One message written count times, as the Conec service yields one array count times.
        var payload = new Grpc.Payload { Data = UnsafeByteOperations.UnsafeWrap(new byte[request.Size]) };
        for (var i = 0; i < request.Count; i++)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            await responseStream.WriteAsync(payload);
        }
    }
}
