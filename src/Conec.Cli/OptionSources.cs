namespace Conec.Cli;

/// <summary>
/// Which option set which configuration property. The configurations' validators name properties
/// ("CoordConfig.Port must be between 0 and 65535."), which mean nothing to someone who typed <c>--port</c>.
/// </summary>
internal sealed class OptionSources
{
    private readonly (string Property, string Option)[] _sources;

    private OptionSources((string Property, string Option)[] sources) => _sources = sources;

    public static OptionSources None { get; } = new([]);

    /// <summary>Sources for properties of <typeparamref name="TConfig"/>, as (property name, how to call the option) pairs.</summary>
    public static OptionSources Of<TConfig>(params (string Property, string Option)[] sources) =>
        new([.. sources.Select(s => ($"{typeof(TConfig).Name}.{s.Property}", s.Option))]);

    /// <summary>The validator's message with the option in place of the property, or null when no option set it.</summary>
    public string? Rephrase(ConecException exception)
    {
        if (exception.Error != ConecError.InvalidConfiguration)
        {
            return null;
        }

        // The validators write "Type.Property rule.": the property is followed by a space, never by more name.
        foreach (var (property, option) in _sources)
        {
            if (exception.Message.StartsWith(property + " ", StringComparison.Ordinal))
            {
                return option + exception.Message[property.Length..];
            }
        }

        return null;
    }
}
