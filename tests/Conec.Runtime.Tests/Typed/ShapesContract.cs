using MessagePack;

namespace Conec.Tests.Typed;

public enum Shade : short
{
    Light = 1,
    Dark = -2,
}

[MessagePackObject]
public readonly record struct Point([property: Key(0)] int X, [property: Key(1)] int Y);

[MessagePackObject]
public sealed record Leaf([property: Key(0)] string Name, [property: Key(2)] double Weight);

/// <summary>A type that contains itself: reading it must stop at a depth limit rather than overflow the stack.</summary>
[MessagePackObject]
public sealed class Node
{
    [Key(0)]
    public List<Node>? Children { get; set; }
}

/// <summary>Every shape the generator writes code for, and one (decimal) it leaves to MessagePackSerializer.</summary>
[MessagePackObject]
public sealed class Everything
{
    [Key(0)] public bool Flag { get; set; }
    [Key(1)] public byte Small { get; set; }
    [Key(2)] public sbyte SignedSmall { get; set; }
    [Key(3)] public short Medium { get; set; }
    [Key(4)] public ushort UnsignedMedium { get; set; }
    [Key(5)] public int Number { get; set; }
    [Key(6)] public uint UnsignedNumber { get; set; }
    [Key(7)] public long Large { get; set; }
    [Key(8)] public ulong UnsignedLarge { get; set; }
    [Key(9)] public float Fraction { get; set; }
    [Key(10)] public double Real { get; set; }
    [Key(11)] public char Letter { get; set; }
    [Key(12)] public string Text { get; set; } = "";
    [Key(13)] public string? Maybe { get; set; }
    [Key(14)] public byte[] Blob { get; set; } = [];
    [Key(15)] public DateTime When { get; set; }
    [Key(16)] public TimeSpan Span { get; set; }
    [Key(17)] public Guid Id { get; set; }
    [Key(18)] public Shade Shade { get; set; }
    [Key(19)] public int? Optional { get; set; }
    [Key(20)] public int[] Numbers { get; set; } = [];
    [Key(21)] public List<string> Names { get; set; } = [];
    [Key(22)] public Dictionary<string, int> Counts { get; set; } = [];
    [Key(23)] public IReadOnlyList<Leaf> Leaves { get; set; } = [];
    [Key(24)] public Leaf? OneLeaf { get; set; }
    [Key(25)] public Point At { get; set; }
    [Key(26)] public Point? MaybeAt { get; set; }
    [Key(27)] public int[][] Jagged { get; set; } = [];
    [Key(29)] public decimal Money { get; set; }
    [Key(30)] public IDictionary<int, Leaf?> ById { get; set; } = new Dictionary<int, Leaf?>();
}

/// <summary>A contract whose messages carry every shape, so the generator writes code for each.</summary>
[ConecStream]
public interface IShapes
{
    ValueTask Send(Everything value, Shade? shade);

    ValueTask Plant(Node root);

    ValueTask Caption(string? title, string text);
}
