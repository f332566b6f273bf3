namespace Tollgate;

/// <summary>
/// A store did not answer (unreachable, timed out, restarting): not a bug, and nothing was decided. Stores throw it
/// for such failures so that the server answers 503 <c>store_unavailable</c> wherever in a request it happens.
/// </summary>
public sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
