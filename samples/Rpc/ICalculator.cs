namespace Conec.Samples.Rpc;

/// <summary>The calculator contract.</summary>
[ConecStream]
public interface ICalculator
{
    /// <summary>Adds two numbers.</summary>
    ValueTask<int> Add(int a, int b);

    /// <summary>Divides, throwing on zero.</summary>
    ValueTask<int> Divide(int a, int b);

    /// <summary>Squares slowly, so it can be cancelled.</summary>
    ValueTask<int> SlowSquare(int value, CancellationToken cancellationToken);
}
