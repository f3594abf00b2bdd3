namespace Conec;

/// <summary>How a generated server serves: the filters every call passes through.</summary>
public sealed class RpcServerOptions
{
    /// <summary>
    /// Filters around every call and one-way message, outermost first. Empty by default; with none, a call costs
    /// what it did before filters existed (no context or delegate is allocated for the chain).
    /// </summary>
    public IList<IRpcServerFilter> Filters { get; } = new List<IRpcServerFilter>();

    /// <exception cref="ConecException"><see cref="ConecError.InvalidConfiguration"/>, naming the property.</exception>
    public void Validate()
    {
        if (Filters.Any(f => f is null))
        {
            throw new ConecException(ConecError.InvalidConfiguration, "RpcServerOptions.Filters must not contain null.");
        }
    }
}
