using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;
using Tollgate.Server.Admission;
using Tollgate.Server.Hosting;

namespace Tollgate.Server.Observability;

/// <summary>
/// One structured line per request, in the category <see cref="Category"/> at Information (probes and scrapes at
/// Debug): method, path with its query string but never a credential parameter (<c>api_key</c>, …), status, the
/// error's <c>code</c>, the organization and the key's visible prefix (never the key), duration and response bytes.
/// It runs first, so it sees the status the error shaping and the exception handler settled on; a WebSocket's line is
/// written when the stream ends. Nothing is allocated while the category is below Information.
/// </summary>
internal sealed partial class RequestLogMiddleware(RequestDelegate next, ILoggerFactory loggers)
{
    /// <summary>The log category (<c>Logging__LogLevel__Tollgate.Requests=Warning</c> turns the lines off).</summary>
    public const string Category = "Tollgate.Requests";

    /// <summary>Query parameters that carry credentials: left out of the logged path whatever their case or escaping.</summary>
    private static readonly string[] SecretParameters = ["api_key", "apikey", "token", "access_token"];

    private readonly ILogger _logger = loggers.CreateLogger(Category);

    public Task Invoke(HttpContext context)
    {
        var path = context.Request.Path;
        var level = HealthEndpoints.IsProbe(path) || path.Equals(TelemetryEndpoints.PrometheusPath, StringComparison.OrdinalIgnoreCase)
            ? LogLevel.Debug
            : LogLevel.Information;
        return _logger.IsEnabled(level) ? InvokeLoggedAsync(context, level) : next(context);
    }

    private async Task InvokeLoggedAsync(HttpContext context, LogLevel level)
    {
        var start = Stopwatch.GetTimestamp();
        var entry = new RequestLogEntry(context.Features.GetRequiredFeature<IHttpResponseBodyFeature>());
        context.Features.Set<IHttpResponseBodyFeature>(entry);
        context.Features.Set(entry);
        try
        {
            await next(context);
        }
        finally
        {
            var principal = context.Features.Get<AdmissionFeature>()?.Principal;
            LogRequest(_logger, level, context.Request.Method, SafePath(context.Request), context.Response.StatusCode, entry.Code ?? "-",
                principal?.OrgId ?? "-", principal?.Key.Prefix ?? "-", Math.Round(Stopwatch.GetElapsedTime(start).TotalMilliseconds, 1), entry.BytesWritten);
        }
    }

    /// <summary>The request's path and query string without any credential parameter.</summary>
    internal static string SafePath(HttpRequest request)
    {
        var path = request.PathBase.Add(request.Path).Value is { Length: > 0 } p ? p : "/";
        var query = QueryWithoutSecrets(request.QueryString.Value);
        return query.Length == 0 ? path : path + "?" + query;
    }

    /// <summary><paramref name="url"/> (a URL, or a bare query string) with every credential parameter of its query left out.</summary>
    internal static string WithoutSecrets(string url, bool isQuery)
    {
        if (isQuery)
        {
            return QueryWithoutSecrets(url);
        }
        var mark = url.IndexOf('?');
        if (mark < 0)
        {
            return url;
        }
        var query = QueryWithoutSecrets(url[mark..]);
        return query.Length == 0 ? url[..mark] : url[..(mark + 1)] + query;
    }

    /// <summary>A query string (with or without its <c>?</c>) without credential parameters, without its <c>?</c>.</summary>
    private static string QueryWithoutSecrets(string? query)
    {
        if (string.IsNullOrEmpty(query))
        {
            return "";
        }
        var pairs = (query[0] == '?' ? query[1..] : query).Split('&');
        return string.Join('&', pairs.Where(pair => pair.Length > 0 && !IsSecret(pair)));
    }

    private static bool IsSecret(string pair)
    {
        var rawName = pair.Split('=', 2)[0];
        string name;
        try
        {
            name = Uri.UnescapeDataString(rawName.Replace('+', ' ')).Trim();
        }
        catch (UriFormatException)
        {
            name = rawName;
        }
        return SecretParameters.Any(secret => string.Equals(secret, name, StringComparison.OrdinalIgnoreCase));
    }

    [LoggerMessage(EventId = 1, EventName = "Request",
        Message = "{Method} {Path} {Status} {Code} org={Org} key={KeyPrefix} {DurationMs} ms {Bytes} B")]
    private static partial void LogRequest(ILogger logger, LogLevel level, string method, string path, int status, string code,
        string org, string keyPrefix, double durationMs, long bytes);
}

/// <summary>
/// The request log's view of one response: the error <c>code</c> its answer carried (set by <c>ApiError</c> and
/// <c>Rejection</c>) and the bytes its body wrote, counted as they pass to the server's own body feature.
/// </summary>
internal sealed class RequestLogEntry(IHttpResponseBodyFeature inner) : IHttpResponseBodyFeature
{
    private Stream? _stream;
    private PipeWriter? _writer;

    public string? Code { get; set; }

    public long BytesWritten { get; internal set; }

    /// <summary>Notes <paramref name="code"/> as the answer's error code when the request is being logged.</summary>
    public static void NoteCode(HttpContext context, string code)
    {
        if (context.Features.Get<RequestLogEntry>() is { } entry)
        {
            entry.Code = code;
        }
    }

    public Stream Stream => _stream ??= new CountingStream(inner.Stream, this);

    public PipeWriter Writer => _writer ??= new CountingPipeWriter(inner.Writer, this);

    public void DisableBuffering() => inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
    {
        BytesWritten += count ?? Math.Max(0, new FileInfo(path).Length - offset);
        return inner.SendFileAsync(path, offset, count, cancellationToken);
    }

    public Task CompleteAsync() => inner.CompleteAsync();

    private sealed class CountingPipeWriter(PipeWriter inner, RequestLogEntry entry) : PipeWriter
    {
        public override void Advance(int bytes)
        {
            entry.BytesWritten += bytes;
            inner.Advance(bytes);
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            entry.BytesWritten += source.Length;
            return inner.WriteAsync(source, cancellationToken);
        }
    }

    private sealed class CountingStream(Stream inner, RequestLogEntry entry) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => inner.CanWrite;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            entry.BytesWritten += count;
            inner.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            entry.BytesWritten += buffer.Length;
            inner.Write(buffer);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            entry.BytesWritten += count;
            return inner.WriteAsync(buffer, offset, count, cancellationToken);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            entry.BytesWritten += buffer.Length;
            return inner.WriteAsync(buffer, cancellationToken);
        }
    }
}
