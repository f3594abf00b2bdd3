namespace Conec.Tests.Broadcasts;

/// <summary>A unit-only enum, as conec's codec test sends (bincode there, MessagePack here).</summary>
public enum Weather
{
    Sun,
    Rain,
    Snow,
}
