using System.Net.Http.Json;
using System.Net;
using System.Net.Http.Headers;

namespace Tollgate.Infrastructure;

/// <summary>
/// A batch upload whose body stops half way until the test opens its gate: an admitted request then holds its
/// concurrency slot for as long as the test wants, with nothing sleeping. The request asks for
/// <c>100-continue</c>, so a refused request gets its answer without sending any body.
/// </summary>
public sealed class GatedUpload
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _bodyStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the server asked for the body (it was admitted) and the first half is sent.</summary>
    public Task BodyStarted => _bodyStarted.Task;

    public void Open() => _gate.TrySetResult();

    public HttpRequestMessage Request(string model, byte[] file, string fileName = "audio.wav", string? path = null)
    {
        var content = new MultipartFormDataContent { { new GatedContent(file, this), "upload_file", fileName } };
        var request = new HttpRequestMessage(HttpMethod.Post, path ?? $"api/{model}") { Content = content };
        request.Headers.ExpectContinue = true;
        return request;
    }

    private sealed class GatedContent(byte[] file, GatedUpload owner) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        // A client that gives up (cancels) stops waiting at the gate, as a dying client would.
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var half = file.Length / 2;
            await stream.WriteAsync(file.AsMemory(0, half), cancellationToken);
            await stream.FlushAsync(cancellationToken);
            owner._bodyStarted.TrySetResult();
            await owner._gate.Task.WaitAsync(cancellationToken);
            await stream.WriteAsync(file.AsMemory(half), cancellationToken);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = file.Length;
            return true;
        }

        protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}

/// <summary>The Admin API's usage report, read the way a test needs it.</summary>
public static class Usage
{
    public static async Task<System.Text.Json.Nodes.JsonObject> ForModelAsync(TollgateServer server, string orgId, string model, string? month = null)
    {
        using var admin = server.CreateAdminClient();
        var report = await admin.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>(
            $"admin/orgs/{orgId}/usage" + (month is null ? "" : $"?month={month}"));
        return report!["models"]!.AsArray().Select(m => m!.AsObject()).Single(m => m["model"]!.GetValue<string>() == model);
    }

    /// <summary>Polls (with a deadline, not a fixed sleep) until the pool's in-flight count reaches <paramref name="expected"/>.</summary>
    public static async Task WaitForInFlightAsync(TollgateServer server, string orgId, string model, int expected, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(20));
        int seen;
        while ((seen = (await ForModelAsync(server, orgId, model))["in_flight"]!.GetValue<int>()) != expected)
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"in_flight stayed {seen}, expected {expected}");
            }
            await Task.Delay(20);
        }
    }
}
