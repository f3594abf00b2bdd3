namespace PackageConsumer;

internal sealed class Greeter : IGreeter
{
    public ValueTask<string> Greet(Name name, CancellationToken cancellationToken) => ValueTask.FromResult($"hello, {name.Text}");

    public ValueTask Wave(Name name) => ValueTask.CompletedTask;
}
