namespace Conec.Hosting;

/// <summary>What a hosted client does with each incoming stream (for example, serve a generated RPC server on it).</summary>
/// <param name="Handle">Called once per stream, in its own DI scope, with a token that is cancelled when the host stops.</param>
internal sealed record ConecStreamHandler(Func<IServiceProvider, IncomingStream, CancellationToken, Task> Handle);
