using Microsoft.AspNetCore.Diagnostics;

namespace Tollgate.Server.Http;

/// <summary>
/// Every answer the server gives without an endpoint's help is in the contracts' error shape,
/// <c>{"detail","code"}</c>: routing's 404 (no such path), 405 (a path that exists, another method) and 415 (a media
/// type the endpoint does not accept), and any unhandled exception (500, with no internals). None of them went through
/// admission: no key was read, no window counted, no lease taken. An endpoint's own bodyless refusal (minimal APIs'
/// 400 for an unreadable body, 415 for a JSON endpoint sent another type) gets the shape the same way.
/// <para>
/// The status answers are shaped by a small middleware rather than <c>UseStatusCodePages</c>: that one keeps its
/// options in <c>HttpContext.Items</c>, which costs every request an items dictionary and a feature (about 290 B,
/// measured in <c>bench/load.sh</c>'s pipeline run) for the rare answer it rewrites. This one allocates nothing
/// unless the endpoint completes asynchronously or it has an answer to write.
/// </para>
/// </summary>
internal static partial class ErrorShapes
{
    public static IApplicationBuilder UseErrorShapes(this IApplicationBuilder app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = WriteInternalErrorAsync,
            // The exception is logged once, here, with the request id; the default handler's log would add a second copy.
            SuppressDiagnosticsCallback = static _ => true,
        });
        app.Use(static next => context =>
        {
            var pending = next(context);
            if (!pending.IsCompletedSuccessfully)
            {
                return ShapeAfterAsync(pending, context);
            }
            return NeedsShape(context.Response) ? WriteStatusAsync(context) : Task.CompletedTask;
        });
        return app;
    }

    private static async Task ShapeAfterAsync(Task pending, HttpContext context)
    {
        await pending;
        if (NeedsShape(context.Response))
        {
            await WriteStatusAsync(context);
        }
    }

    /// <summary>An error status with nothing written and nothing declared: the same test <c>UseStatusCodePages</c> applies.</summary>
    private static bool NeedsShape(HttpResponse response) =>
        response.StatusCode is >= 400 and < 600
        && !response.HasStarted
        && response.ContentLength is null
        && string.IsNullOrEmpty(response.ContentType);

    private static Task WriteInternalErrorAsync(HttpContext context)
    {
        var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Tollgate.Server.UnhandledException");
        if (error is BadHttpRequestException bad)
        {
            // The client's fault, found by the server while reading the request (a body over the limit, too slow, badly
            // framed): its own status, in our shape, and no stack trace in the log.
            LogBadRequest(logger, bad.StatusCode, context.Request.Method, context.Request.Path.Value ?? "", bad.Message);
            var (code, detail) = bad.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => (ErrorCodes.PayloadTooLarge, "The request body is larger than this endpoint accepts."),
                StatusCodes.Status408RequestTimeout => (ErrorCodes.UploadTimeout, "The request body did not arrive fast enough."),
                _ => (ErrorCodes.InvalidRequest, "The request could not be read: " + bad.Message),
            };
            context.Response.Headers.Connection = "close";
            return ApiError.WriteAsync(context, bad.StatusCode, code, detail);
        }
        if (error is StoreUnavailableException unavailable)
        {
            // A store (Redis, say) went away after admission: as admission answers it, and the client may retry.
            LogStoreUnavailable(logger, unavailable, context.Request.Method, context.Request.Path.Value ?? "");
            context.Response.Headers.RetryAfter = "1";
            return ApiError.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ErrorCodes.StoreUnavailable,
                "A store this request needs is unreachable right now. Retry shortly.");
        }
        LogUnhandled(logger, error, context.Request.Method, context.Request.Path.Value ?? "", context.TraceIdentifier);
        return ApiError.WriteAsync(context, StatusCodes.Status500InternalServerError, ErrorCodes.InternalError,
            $"The server failed to answer this request (request id {context.TraceIdentifier}). It has been logged; retry later.");
    }

    private static Task WriteStatusAsync(HttpContext context)
    {
        var response = context.Response;
        var (code, detail) = response.StatusCode switch
        {
            StatusCodes.Status404NotFound => (ErrorCodes.NotFound, $"No endpoint serves {context.Request.Path}. The API reference is at /docs."),
            StatusCodes.Status405MethodNotAllowed => (ErrorCodes.MethodNotAllowed,
                $"{context.Request.Method} is not allowed on {context.Request.Path}" + (response.Headers.Allow.Count > 0 ? $"; use {response.Headers.Allow}." : ".")),
            StatusCodes.Status415UnsupportedMediaType => (ErrorCodes.UnsupportedMediaType,
                $"This endpoint does not accept Content-Type '{context.Request.ContentType}'. The API reference at /docs lists what it takes."),
            _ => (ErrorCodes.InvalidRequest, "The request could not be served."),
        };
        return ApiError.WriteAsync(context, response.StatusCode, code, detail);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Refused {Method} {Path} with {Status} while reading it: {Problem}")]
    private static partial void LogBadRequest(ILogger logger, int status, string method, string path, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A store was unreachable while answering {Method} {Path}: 503 store_unavailable")]
    private static partial void LogStoreUnavailable(ILogger logger, Exception ex, string method, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception answering {Method} {Path} (request id {RequestId})")]
    private static partial void LogUnhandled(ILogger logger, Exception? ex, string method, string path, string requestId);
}
