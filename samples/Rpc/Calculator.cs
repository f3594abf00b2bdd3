namespace Conec.Samples.Rpc;

/// <summary>The calculator, with signals the sample checks.</summary>
internal sealed class Calculator : ICalculator
{
    public TaskCompletionSource SlowStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<object> SlowCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ValueTask<int> Add(int a, int b) => ValueTask.FromResult(a + b);

    public ValueTask<int> Divide(int a, int b) => ValueTask.FromResult(a / b);

    public async ValueTask<int> SlowSquare(int value, CancellationToken cancellationToken)
    {
        SlowStarted.TrySetResult();
        try
        {
            await Task.Delay(TimeSpan.FromMinutes(1), cancellationToken);
            return value * value;
        }
        catch (OperationCanceledException)
        {
            SlowCancelled.TrySetResult(new object());
            throw;
        }
    }
}
