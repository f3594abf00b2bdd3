namespace Conec;

/// <summary>Gives a contract method its wire id explicitly (otherwise a stable hash of its name is used).</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class ConecMethodAttribute : Attribute
{
    /// <summary>The method's id on the wire; unique within its contract.</summary>
    public int Id { get; set; }

    /// <summary>
    /// Makes a method returning <see cref="Task"/> or <see cref="ValueTask"/> a call (it waits for the remote side to
    /// finish and surfaces its exception) rather than a one-way message.
    /// </summary>
    public bool Call { get; set; }
}
