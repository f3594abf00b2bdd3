using Microsoft.AspNetCore.SignalR.Client;

namespace Conec.Benchmarks;

/// <summary>
/// The baseline of the echo-with-the-coordinator rows: <c>InvokeAsync</c> of <see cref="EchoHub.Echo"/> on the
/// fan-out rows' SignalR server (<see cref="SignalRFanOut"/>), run in a child process as the coordinator is, over
/// one connection from this process.
/// </summary>
internal sealed class SignalREcho : IAsyncDisposable
{
    public const string Mode = "signalr-child";

    private readonly CoordinatorProcess _host;
    private readonly HubConnection _connection;

    private SignalREcho(CoordinatorProcess host, HubConnection connection)
    {
        _host = host;
        _connection = connection;
    }

    /// <summary>Starts the server on the key pair (whose certificate the connection pins) and connects to its echo hub.</summary>
    public static async Task<SignalREcho> StartAsync(BenchmarkCertificates certificates, string certificatePath, string keyPath)
    {
        var host = await CoordinatorProcess.StartAsync(Mode, certificatePath, keyPath);
        try
        {
            var url = $"https://localhost:{host.Port}{EchoHub.Path}";
            var connection = await SignalRFanOut.ConnectAsync(url, certificates.ServerCertificate.RawData).WithinAsync(Deadline.Setup, "Connecting to the SignalR hub");
            return new SignalREcho(host, connection);
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>p50 and p99 in microseconds of <paramref name="calls"/> 64-byte invocations, one at a time.</summary>
    public Task<double[]> RunAsync(int calls) => EchoRuns.OneAtATimeAsync(async payload =>
            (await _connection.InvokeAsync<byte[]>(nameof(EchoHub.Echo), payload)).Length, calls)
        .WithinAsync(Deadline.Run, "A SignalR echo run");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _connection.DisposeAsync().AsTask().WithinAsync(Deadline.Stop, "Closing the SignalR connection");
        }
        finally
        {
            await _host.DisposeAsync();
        }
    }
}
