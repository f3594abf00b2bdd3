namespace Conec.Transport.Tcp;

/// <summary>
/// Where a stream's frames wait in the send queue's current batch: how much data it has in the urgent lane, and
/// whether it has moved to the bulk lane. Valid only for the batch <see cref="Generation"/> names; a stream whose
/// generation is older has nothing waiting.
/// </summary>
internal struct MuxLaneState
{
    public long Generation;
    public int UrgentBytes;
    public bool InBulk;
}
