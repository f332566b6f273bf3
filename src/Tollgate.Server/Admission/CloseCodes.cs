namespace Tollgate.Server.Admission;

/// <summary>The WebSocket close codes of the streaming contracts.</summary>
internal static class CloseCodes
{
    public const int Normal = 1000;
    public const int InvalidParameters = 1003;
    public const int InternalError = 1011;
    public const int Unauthorized = 4001;
    public const int UndecodableAudio = 4002;
    public const int Forbidden = 4003;
    public const int LimitExceeded = 4029;
}
