namespace Conec;

/// <summary>An RPC handler on the remote side threw: its exception's type name and message, carried back to the caller.</summary>
public sealed class ConecRemoteException : Exception
{
    /// <summary>Creates an exception describing a remote failure.</summary>
    public ConecRemoteException(string remoteType, string message)
        : base(message)
    {
        RemoteType = remoteType;
    }

    /// <summary>Creates an exception without a remote type (for serializers and tests).</summary>
    public ConecRemoteException()
        : this("System.Exception", "The remote handler failed.")
    {
    }

    /// <summary>Creates an exception without a remote type (for serializers and tests).</summary>
    public ConecRemoteException(string message)
        : this("System.Exception", message)
    {
    }

    /// <summary>Creates an exception without a remote type (for serializers and tests).</summary>
    public ConecRemoteException(string message, Exception innerException)
        : base(message, innerException)
    {
        RemoteType = "System.Exception";
    }

    /// <summary>The full name of the exception type the remote handler threw.</summary>
    public string RemoteType { get; }
}
