using MessagePack;

namespace Conec.Samples.Aot;

/// <summary>A sensor reading: the sample's message type, served by the generated formatter.</summary>
/// <param name="Sensor">Which sensor.</param>
/// <param name="Celsius">What it read.</param>
[MessagePackObject]
public sealed record Reading([property: Key(0)] string Sensor, [property: Key(1)] double Celsius);
