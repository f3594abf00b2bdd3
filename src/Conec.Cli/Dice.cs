using System.Security.Cryptography;

namespace Conec.Cli;

/// <summary>The demo's RPC service: answers <see cref="ILobby.Roll"/>; chat lines sent to it are counted.</summary>
internal sealed class Dice : ILobby
{
    public int Lines { get; private set; }

    public ValueTask Say(ChatLine line)
    {
        Lines++;
        return ValueTask.CompletedTask;
    }

    public ValueTask<int> Roll(int sides, CancellationToken cancellationToken) =>
        sides >= 1 ? ValueTask.FromResult(RandomNumberGenerator.GetInt32(1, sides + 1)) : throw new ArgumentOutOfRangeException(nameof(sides), "A die has at least one side.");
}
