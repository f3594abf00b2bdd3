using MessagePack;

namespace Conec.Tests.Typed;

[MessagePackObject]
public sealed record ChatLine([property: Key(0)] string Text, [property: Key(1)] int Mood);

/// <summary>A chat contract: one-way lines for broadcasts, and calls for the RPC tests.</summary>
[ConecStream]
public interface IChat
{
    ValueTask Say(ChatLine line);

    Task Shout(string text, int times);

    ValueTask<int> Roll(int sides, CancellationToken cancellationToken);

    Task<string> Describe(ChatLine line);

    [ConecMethod(Id = 7, Call = true)]
    ValueTask Fail(string message);

    ValueTask<int> Wait(int milliseconds, CancellationToken cancellationToken);

    IAsyncEnumerable<int> Count(int upTo, CancellationToken cancellationToken);
}
