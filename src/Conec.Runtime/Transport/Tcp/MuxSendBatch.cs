namespace Conec.Transport.Tcp;

/// <summary>What the writer loop sends in one pass: the urgent lane's frames, then the bulk lane's; either may be absent.</summary>
internal readonly record struct MuxSendBatch(byte[]? Urgent, int UrgentLength, byte[]? Bulk, int BulkLength)
{
    public bool IsEmpty => Urgent is null && Bulk is null;

    public int Length => UrgentLength + BulkLength;
}
