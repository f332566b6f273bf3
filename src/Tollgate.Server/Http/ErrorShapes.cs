using Microsoft.AspNetCore.Diagnostics;

namespace Tollgate.Server.Http;

/// <summary>
/// Every answer the server gives without an endpoint's help is in the contracts' error shape,
/// <c>{"detail","code"}</c>: routing's 404 (no such path), 405 (a path that exists, another method) and 415 (a media
/// type the endpoint does not accept), and any unhandled exception (500, with no internals). None of them went through
/// admission: no key was read, no window counted, no lease taken.
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
        app.UseStatusCodePages(static context => WriteStatusAsync(context.HttpContext));
        return app;
    }

    private static Task WriteInternalErrorAsync(HttpContext context)
    {
        var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Tollgate.Server.UnhandledException");
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception answering {Method} {Path} (request id {RequestId})")]
    private static partial void LogUnhandled(ILogger logger, Exception? ex, string method, string path, string requestId);
}
