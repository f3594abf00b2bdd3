namespace Conec.Samples.Chat;

/// <summary>The chat contract: a one-way line, heard by every member of a broadcast.</summary>
[ConecStream]
public interface IRoom
{
    /// <summary>Posts a line to the room.</summary>
    ValueTask Post(Line line);
}
