using MessagePack;

namespace Conec.Cli;

/// <summary>One line of the demo's chat.</summary>
/// <param name="Text">What was said.</param>
[MessagePackObject]
public sealed record ChatLine([property: Key(0)] string Text);

/// <summary>The demo's typed contract: a one-way chat line, and a call with a result.</summary>
[ConecStream]
public interface ILobby
{
    /// <summary>Says something to everybody in the lobby.</summary>
    ValueTask Say(ChatLine line);

    /// <summary>Rolls a die with <paramref name="sides"/> sides on the serving client.</summary>
    ValueTask<int> Roll(int sides, CancellationToken cancellationToken);
}
