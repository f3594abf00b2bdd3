namespace Conec.Benchmarks;

/// <summary>
/// The typed broadcast the fan-out benchmark sends: one one-way method with the same signature as the SignalR hub's
/// <see cref="FanOutHub.Publish"/>, so both sides serialize and decode one byte array per message. The generator
/// turns it into <c>FeedSender</c> and <c>FeedBroadcastReader</c>, which yields (sender, message).
/// </summary>
[ConecStream]
public interface IFeed
{
    ValueTask Publish(byte[] payload);
}
