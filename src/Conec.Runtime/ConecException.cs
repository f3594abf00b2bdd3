namespace Conec;

/// <summary>The one exception type Conec throws for network, protocol and certificate failures.</summary>
/// <remarks>
/// Switch on <see cref="Error"/> rather than on the message text. Stream and connection aborts carry the
/// application error code the peer supplied in <see cref="ApplicationErrorCode"/>.
/// </remarks>
public sealed class ConecException : Exception
{
    /// <summary>Creates an exception with an error kind and a message.</summary>
    public ConecException(ConecError error, string message)
        : this(error, message, applicationErrorCode: null, innerException: null)
    {
    }

    /// <summary>Creates an exception with an error kind, a message, an optional application code and cause.</summary>
    public ConecException(ConecError error, string message, long? applicationErrorCode, Exception? innerException)
        : base(message, innerException)
    {
        Error = error;
        ApplicationErrorCode = applicationErrorCode;
    }

    /// <summary>Creates an exception with an error kind, a message and a cause.</summary>
    public ConecException(ConecError error, string message, Exception? innerException)
        : this(error, message, applicationErrorCode: null, innerException)
    {
    }

    /// <summary>What went wrong.</summary>
    public ConecError Error { get; }

    /// <summary>The application error code of a stream or connection abort, when the peer supplied one.</summary>
    public long? ApplicationErrorCode { get; }
}
