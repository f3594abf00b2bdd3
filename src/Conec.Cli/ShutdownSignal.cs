using System.Runtime.InteropServices;

namespace Conec.Cli;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM as a cancellation token, so long-running commands stop cleanly: the coordinator
/// closes every client's connection with its shutdown code instead of the process dying mid-write.
/// </summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;

    public ShutdownSignal(CancellationToken cancellationToken)
    {
        _source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
    }

    public CancellationToken Token => _source.Token;

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _source.Dispose();
    }

    private void Stop(PosixSignalContext context)
    {
        // Handled here: the process exits when the command returns, after its cleanup.
        context.Cancel = true;
        _source.Cancel();
    }
}
