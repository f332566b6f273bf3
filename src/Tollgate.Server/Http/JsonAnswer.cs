using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Tollgate.Server.Http;

/// <summary>
/// Writes a JSON answer for the hot read endpoints with no allocation of its own: serialized by a
/// <see cref="Utf8JsonWriter"/> and buffer kept per thread (a <c>TypedResults.Json</c> answer makes a writer, a
/// result object and the request's DI scope for its logger), and sent with its <c>Content-Length</c>. The bytes are
/// the same as <see cref="JsonSerializer"/> writes with the type's options and <see cref="ServerJsonContext.Encoder"/>.
/// </summary>
internal static class JsonAnswer
{
    public const string ContentType = "application/json; charset=utf-8";

    [ThreadStatic]
    private static Scratch? t_scratch;

    public static Task WriteAsync<T>(HttpResponse response, T body, JsonTypeInfo<T> type, int status = StatusCodes.Status200OK)
    {
        var scratch = t_scratch ??= new Scratch();
        scratch.Writer.Reset(scratch.Bytes);
        try
        {
            JsonSerializer.Serialize(scratch.Writer, body, type);
            scratch.Writer.Flush();
        }
        catch
        {
            scratch.Clear();
            throw;
        }
        response.StatusCode = status;
        response.ContentType = ContentType;
        response.ContentLength = scratch.Bytes.WrittenCount;
        var pending = response.BodyWriter.WriteAsync(scratch.Bytes.WrittenMemory);
        if (pending.IsCompletedSuccessfully)
        {
            scratch.Clear();
            return Task.CompletedTask;
        }
        // The response may copy the bytes only once it has started (an OnStarting callback that waits): this thread's
        // buffer goes with the write, and the thread makes a new one next time.
        t_scratch = null;
        return AfterAsync(pending);
    }

    private static async Task AfterAsync(ValueTask<System.IO.Pipelines.FlushResult> pending) => await pending;

    private sealed class Scratch
    {
        public readonly ArrayBufferWriter<byte> Bytes = new(1024);
        public readonly Utf8JsonWriter Writer = new(Stream.Null, new JsonWriterOptions { Encoder = ServerJsonContext.Encoder });

        public void Clear()
        {
            Writer.Reset();
            if (Bytes.Capacity > 64 * 1024)
            {
                // One large answer does not pin its buffer to the thread.
                t_scratch = null;
            }
            Bytes.ResetWrittenCount();
        }
    }
}
