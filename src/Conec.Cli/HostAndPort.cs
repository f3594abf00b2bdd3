namespace Conec.Cli;

/// <summary>A coordinator's address as given on the command line (HOST[:PORT]).</summary>
internal sealed record HostAndPort(string Host, int Port);
