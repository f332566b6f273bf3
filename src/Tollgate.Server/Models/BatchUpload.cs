using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Tollgate.Server.Admission;
using Tollgate.Server.Http;

namespace Tollgate.Server.Models;

/// <summary>
/// A batch request's multipart body, read as it streams in: the <c>upload_file</c> part is copied to a
/// delete-on-close spool file while its bytes are counted (never held in memory), other parts become form fields.
/// </summary>
internal sealed class BatchUpload : IAsyncDisposable
{
    /// <summary>The contracts' "Maximum file size: 100MB".</summary>
    public const long MaxFileBytes = 100L * 1024 * 1024;

    /// <summary>Room for the multipart framing and the small form fields around the file.</summary>
    private const long MaxOverheadBytes = 2L * 1024 * 1024;

    /// <summary>The request body limit of the batch endpoints: the file and the multipart framing around it.</summary>
    public const long MaxRequestBytes = MaxFileBytes + MaxOverheadBytes;

    internal const int MaxFieldBytes = 1024 * 1024;
    internal const int MaxFields = 64;

    private BatchUpload(FileStream? file, string? fileName, long length, Dictionary<string, string> fields)
    {
        File = file;
        FileName = fileName;
        Length = length;
        Fields = fields;
    }

    /// <summary>The spooled file (seekable, deleted when disposed), or null when no <c>upload_file</c> part came.</summary>
    public FileStream? File { get; }

    /// <summary>The file name the client gave, if any.</summary>
    public string? FileName { get; }

    public long Length { get; }

    public IReadOnlyDictionary<string, string> Fields { get; }

    /// <summary>Lower-case extension without the dot, or "" when the file name has none.</summary>
    public string Extension => Path.GetExtension(FileName ?? "").TrimStart('.').ToLowerInvariant();

    public ValueTask DisposeAsync() => File?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>
    /// Reads the body, or says why it cannot be taken (413 over the size limit, 422 not multipart, 408 not complete
    /// within <paramref name="deadline"/>).
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="spoolDirectory">Where the file part is spooled (deleted when the upload is disposed).</param>
    /// <param name="filePart">The form field that carries the file.</param>
    /// <param name="deadline">How long the body may take to arrive, from now; null: as long as the transport allows.</param>
    public static async Task<(BatchUpload? Upload, Rejection? Rejection)> ReadAsync(HttpContext context, string spoolDirectory, string filePart = "upload_file",
        UploadDeadline? deadline = null, UploadLimits? limits = null)
    {
        var size = limits ?? UploadLimits.ModelsApi;
        var request = context.Request;
        if (Precheck(context, size, out var boundary) is { } refused)
        {
            return (null, refused);
        }

        // The deadline grows with the size the client declares; a body without a length may be as large as the limit.
        var allowed = deadline?.Options.DeadlineFor(request.ContentLength ?? size.MaxRequestBytes);
        using var timeout = allowed is { } limit ? new CancellationTokenSource(limit, deadline!.Value.Time) : null;
        using var linked = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, timeout.Token);
        var ct = linked?.Token ?? context.RequestAborted;

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        FileStream? file = null;
        string? fileName = null;
        long length = 0;
        var taken = false;
        try
        {
            var reader = new MultipartReader(boundary, request.Body) { HeadersLengthLimit = 16 * 1024, HeadersCountLimit = 16 };
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    return (null, InvalidRequest());
                }
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                if (name == filePart && file is null)
                {
                    if (!TryFileName(disposition, out fileName))
                    {
                        return (null, InvalidRequest());
                    }
                    file = CreateSpoolFile(spoolDirectory);
                    length = await CopyCountingAsync(section.Body, file, size.MaxFileBytes, ct);
                    if (length < 0)
                    {
                        return (null, TooLarge(size));
                    }
                }
                else if (fields.Count < MaxFields)
                {
                    var value = await ReadFieldAsync(section.Body, ct);
                    if (value is null)
                    {
                        return (null, FieldTooLarge(name));
                    }
                    fields.TryAdd(name, value);
                }
                else
                {
                    await section.Body.CopyToAsync(Stream.Null, ct);
                }
            }
            var upload = Take(file, fileName, length, fields);
            taken = true;
            return (upload, null);
        }
        catch (Exception) when (timeout is { IsCancellationRequested: true } && !context.RequestAborted.IsCancellationRequested)
        {
            // Stalled or too slow: the rest of the body is never read, so the connection closes after the answer.
            context.Response.Headers.Connection = "close";
            return (null, TimedOut(deadline!.Value.Options.Describe(allowed!.Value)));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(size));
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException && !context.RequestAborted.IsCancellationRequested)
        {
            return (null, InvalidRequest());
        }
        finally
        {
            // Every way out but the upload itself (a refusal, a timeout, an exception) deletes the spool file now: a part
            // after the file that is refused (no Content-Disposition, a field over its limit) used to leave it behind
            // until the finalizer ran.
            if (!taken && file is not null)
            {
                await file.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// What is checked before the body is read: the size limit set (Kestrel counts the body against it), a declared
    /// length within it, a multipart body with a usable boundary.
    /// </summary>
    internal static Rejection? Precheck(HttpContext context, UploadLimits size, out string boundary)
    {
        boundary = "";
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = size.MaxRequestBytes;
        }
        if (context.Request.ContentLength > size.MaxRequestBytes)
        {
            return TooLarge(size);
        }
        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 and <= 200 } given)
        {
            return MissingUploadFile();
        }
        boundary = given;
        return null;
    }

    /// <summary>
    /// The part's file name. A malformed RFC 5987 <c>filename*</c> makes ASP.NET's parser throw
    /// ArgumentNullException, and one naming a charset .NET refuses (<c>UTF-7''…</c>) NotSupportedException (both
    /// found by fuzzing: they escaped as a 500), so either is a bad request here.
    /// </summary>
    internal static bool TryFileName(ContentDispositionHeaderValue disposition, out string? fileName)
    {
        try
        {
            fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            fileName = null;
            return false;
        }
    }

    private static BatchUpload Take(FileStream? file, string? fileName, long length, Dictionary<string, string> fields)
    {
        file?.Seek(0, SeekOrigin.Begin);
        return new BatchUpload(file, fileName, length, fields);
    }

    private static FileStream CreateSpoolFile(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "upload-" + Guid.NewGuid().ToString("N") + ".part");
        return new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
    }

    /// <summary>Copies while counting; returns -1 as soon as the file passes <paramref name="maxBytes"/>.</summary>
    private static async Task<long> CopyCountingAsync(Stream source, Stream destination, long maxBytes, CancellationToken ct)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long total = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, ct)) > 0)
            {
                total += read;
                if (total > maxBytes)
                {
                    return -1;
                }
                await destination.WriteAsync(buffer.AsMemory(0, read), ct);
            }
            await destination.FlushAsync(ct);
            return total;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    internal static async Task<string?> ReadFieldAsync(Stream body, CancellationToken ct)
    {
        using var memory = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = await body.ReadAsync(buffer, ct)) > 0)
        {
            if (memory.Length + read > MaxFieldBytes)
            {
                return null;
            }
            memory.Write(buffer, 0, read);
        }
        return System.Text.Encoding.UTF8.GetString(memory.GetBuffer(), 0, (int)memory.Length);
    }

    internal static Rejection TooLarge(UploadLimits limit) => new(StatusCodes.Status413PayloadTooLarge, CloseCodes.InvalidParameters, limit.TooLargeCode,
        $"The uploaded file is larger than the {limit.Text} limit.");

    internal static Rejection TimedOut(string allowed) => new(StatusCodes.Status408RequestTimeout, CloseCodes.InvalidParameters, ErrorCodes.UploadTimeout,
        $"The upload did not arrive within {allowed}. Send it again over a faster link, or send a smaller file.");

    internal static Rejection FieldTooLarge(string name) => new(StatusCodes.Status400BadRequest, CloseCodes.InvalidParameters, ErrorCodes.InvalidRequest,
        $"Form field '{name}' is larger than {MaxFieldBytes / 1024} KB.");

    internal static Rejection InvalidRequest() => new(StatusCodes.Status400BadRequest, CloseCodes.InvalidParameters, ErrorCodes.InvalidRequest,
        "Invalid request.");

    internal static Rejection MissingUploadFile() => new(StatusCodes.Status422UnprocessableEntity, CloseCodes.InvalidParameters, ErrorCodes.MissingField,
        "Field required: upload_file (a multipart/form-data part holding the audio file).");
}

/// <summary>How large an upload may be: its file part, the whole body, and how the 413 answer says it.</summary>
internal sealed record UploadLimits(long MaxFileBytes, long MaxRequestBytes, string Text, string TooLargeCode)
{
    /// <summary>The Models API batch endpoints: 100 MB files.</summary>
    public static UploadLimits ModelsApi { get; } = new(BatchUpload.MaxFileBytes, BatchUpload.MaxRequestBytes, "100 MB", ErrorCodes.PayloadTooLarge);
}

/// <summary>How long an upload's body may take to arrive (<see cref="UploadOptions"/>), measured on <paramref name="Time"/>.</summary>
internal readonly record struct UploadDeadline(UploadOptions Options, TimeProvider Time);
