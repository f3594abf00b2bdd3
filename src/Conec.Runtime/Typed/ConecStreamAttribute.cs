namespace Conec;

/// <summary>
/// Marks an interface as a Conec stream contract. The Conec source generator then emits, next to it, a sender that
/// implements the interface over an <see cref="OutStream"/>, a receiver and dispatcher over an <see cref="InStream"/>,
/// an RPC client and server, and typed broadcast readers (see docs/generator.md).
/// </summary>
[AttributeUsage(AttributeTargets.Interface, Inherited = false)]
public sealed class ConecStreamAttribute : Attribute
{
}
