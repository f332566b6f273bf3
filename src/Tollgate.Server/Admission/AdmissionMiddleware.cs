using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Tollgate.Metering;
using Tollgate.Observability;
using Tollgate.RateLimiting;
using Tollgate.Server.Http;

namespace Tollgate.Server.Admission;

/// <summary>
/// The admission pipeline of DESIGN 3, after routing, from the matched endpoint's <see cref="AdmissionMetadata"/>:
/// authenticate → entitle → rate windows → concurrency lease → quota, then dispatch. Each step is its own component;
/// this runs them in order, answers the first refusal, and for metered endpoints wraps the dispatch in the
/// <see cref="SettlementGate"/> and settles the <see cref="MeteredCall"/> however the request ends. Endpoints without
/// the metadata (the Admin API, the docs, routing's own 404/405/415) pass straight through. The fast path completes
/// synchronously and allocates only the request's <see cref="AdmissionFeature"/>.
/// </summary>
internal sealed partial class AdmissionMiddleware
{
    internal static readonly ActivitySource Activities = new("Tollgate.Admission");

    private readonly RequestDelegate _next;
    private readonly IAdmissionStep[] _steps;
    private readonly TollgateMetrics _metrics;
    private readonly RejectionCounter _rejections;
    private readonly ILogger<AdmissionMiddleware> _logger;

    public AdmissionMiddleware(RequestDelegate next, AuthenticationStep authenticate, EntitlementStep entitle, RateWindowStep rateWindows,
        ConcurrencyStep lease, QuotaStep quota, TollgateMetrics metrics, RejectionCounter rejections, ILogger<AdmissionMiddleware> logger)
    {
        _next = next;
        _steps = [authenticate, entitle, rateWindows, lease, quota];
        _metrics = metrics;
        _rejections = rejections;
        _logger = logger;
    }

    public Task Invoke(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata.GetMetadata<AdmissionMetadata>();
        if (metadata is null)
        {
            return _next(context);
        }
        var method = context.Request.Method;
        var feature = new AdmissionFeature(metadata, context.WebSockets.IsWebSocketRequest, Stopwatch.GetTimestamp())
        {
            Operation = HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? OperationClass.Safe : OperationClass.Unsafe,
        };
        context.Features.Set(feature);
        if (metadata.MaxBodyBytes is { } maxBody && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = maxBody;
        }
        return Run(context, feature, 0);
    }

    /// <summary>Runs the steps from <paramref name="index"/> on; leaves for the async path only when a step has to wait.</summary>
    private Task Run(HttpContext context, AdmissionFeature feature, int index)
    {
        for (; index < _steps.Length; index++)
        {
            var step = _steps[index];
            var activity = Activities.StartActivity(step.Name);
            ValueTask<Rejection?> pending;
            try
            {
                pending = step.AdmitAsync(context, feature);
            }
            catch (Exception ex)
            {
                activity?.Dispose();
                return StoreUnavailableAsync(context, feature, step, ex);
            }
            if (!pending.IsCompletedSuccessfully)
            {
                return RunAsync(context, feature, index, pending, activity);
            }
            var rejection = pending.Result;
            if (rejection is { } refused)
            {
                activity?.SetTag(TollgateMetrics.CodeTag, refused.Code);
                activity?.Dispose();
                return RejectAsync(context, feature, refused);
            }
            activity?.Dispose();
        }
        return Dispatch(context, feature);
    }

    private async Task RunAsync(HttpContext context, AdmissionFeature feature, int index, ValueTask<Rejection?> pending, Activity? activity)
    {
        Rejection? rejection;
        try
        {
            rejection = await pending;
        }
        catch (Exception ex)
        {
            activity?.Dispose();
            await StoreUnavailableAsync(context, feature, _steps[index], ex);
            return;
        }
        if (rejection is { } refused)
        {
            activity?.SetTag(TollgateMetrics.CodeTag, refused.Code);
            activity?.Dispose();
            await RejectAsync(context, feature, refused);
            return;
        }
        activity?.Dispose();
        await Run(context, feature, index + 1);
    }

    private Task Dispatch(HttpContext context, AdmissionFeature feature)
    {
        _metrics.Admission(feature.Metadata.SurfaceName, feature.Model?.Name, null, feature.StartTimestamp);
        return feature.Call is { } call ? DispatchMeteredAsync(context, feature, call) : _next(context);
    }

    private async Task DispatchMeteredAsync(HttpContext context, AdmissionFeature feature, MeteredCall call)
    {
        var gate = SettlementGate.Install(context, call);
        var failed = true;
        try
        {
            await _next(context);
            failed = false;
        }
        finally
        {
            var recorded = await call.SettleAsync();
            if (!recorded)
            {
                LogSettleFailed(_logger, call.SettleError, feature.Model!.Name, call.RequestId);
            }
            await gate.ReleaseAsync(recorded, failed);
            _metrics.RequestCompleted(feature.Metadata.SurfaceName, feature.Model!.Name, feature.StartTimestamp);
        }
    }

    private async Task RejectAsync(HttpContext context, AdmissionFeature feature, Rejection rejection)
    {
        _metrics.Admission(feature.Metadata.SurfaceName, feature.Model?.Name, rejection.Code, feature.StartTimestamp);
        _rejections.Count(feature.Principal?.OrgId ?? feature.RefusedOrgId, rejection.Status, rejection.Code);
        LogRejected(_logger, feature.Metadata.SurfaceName, feature.Model?.Name ?? "-", rejection.Status, rejection.Code);
        if (feature.Call is { } call)
        {
            // Refused after its lease was taken (quota): the slot is free before the refusal is sent.
            await call.SettleAsync();
            feature.Call = null;
        }
        await rejection.WriteAsync(context);
    }

    private async Task StoreUnavailableAsync(HttpContext context, AdmissionFeature feature, IAdmissionStep step, Exception ex)
    {
        if (ex is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            // The client went away while a store was asked: nothing to answer, nothing to hold.
            if (feature.Call is { } call)
            {
                await call.SettleAsync();
            }
            return;
        }
        LogStoreUnavailable(_logger, ex, step.Name);
        await RejectAsync(context, feature, new Rejection(StatusCodes.Status503ServiceUnavailable, CloseCodes.InternalError, ErrorCodes.StoreUnavailable,
            "A store this request needs is unreachable right now. Retry shortly.", RetryAfterSeconds: 1));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Admission refused a {Surface} request for {Model}: {Status} {Code}")]
    private static partial void LogRejected(ILogger logger, string surface, string model, int status, string code);

    [LoggerMessage(Level = LogLevel.Error, Message = "Admission could not decide ({Step}): a store is unreachable")]
    private static partial void LogStoreUnavailable(ILogger logger, Exception ex, string step);

    [LoggerMessage(Level = LogLevel.Error, Message = "The charge of {Model} request {RequestId} could not be recorded; its answer was not completed")]
    private static partial void LogSettleFailed(ILogger logger, Exception? ex, string model, string requestId);
}
