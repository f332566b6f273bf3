namespace Tollgate.Server.Admission;

/// <summary>The WebSocket close codes of the streaming contracts.</summary>
internal static class CloseCodes
{
    public const int Normal = 1000;

    /// <summary>The server is going away (shutting down): the stream's usage so far is charged; reconnect.</summary>
    public const int GoingAway = 1001;
    public const int InvalidParameters = 1003;

    /// <summary>The stream broke a rule of the server's: it sent no audio for the idle timeout.</summary>
    public const int PolicyViolation = 1008;
    public const int InternalError = 1011;
    public const int Unauthorized = 4001;
    public const int UndecodableAudio = 4002;
    public const int Forbidden = 4003;
    public const int LimitExceeded = 4029;
}
