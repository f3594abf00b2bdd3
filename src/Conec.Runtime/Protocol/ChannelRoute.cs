using System.Net;

namespace Conec.Protocol;

/// <summary>
/// The coordinator's answer to a channel request: where the target listens (<paramref name="EndPoint"/>, as before
/// hole punching), its certificate, whether both sides open at once, and every address where it may be reached.
/// </summary>
internal sealed record ChannelRoute(IPEndPoint EndPoint, byte[] Certificate, bool Punch, IReadOnlyList<IPEndPoint> Candidates);
