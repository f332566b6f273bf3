using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Tollgate.Audio;
using Tollgate.Server.Admission;

namespace Tollgate.Server.Models;

/// <summary>
/// The beginning of a batch upload, read to decide it before the rest arrives: the form fields before the file, the
/// file part's name and its first bytes, probed. When they establish the duration (WAV, AIFF, AU, FLAC, MP4 with the
/// moov first, Matroska with a Duration, MP3 with a Xing/VBRI tag) the body can go on as the client sent it
/// (<see cref="StreamedUpload"/>); otherwise the request body is left to replay from its first byte and the upload is
/// spooled as before (<see cref="BatchUpload"/>).
/// </summary>
internal static class UploadHead
{
    /// <summary>The most of the file held in memory to probe it.</summary>
    public const int MaxPrefixBytes = 256 * 1024;

    private const int FirstProbeBytes = 16 * 1024;

    /// <summary>The most of the body recorded before the decision (fields before the file, its part header, the prefix).</summary>
    private const int MaxRecordedBytes = 1024 * 1024 + MaxPrefixBytes;

    /// <summary>
    /// Reads the beginning. A rejection (413 over the size limit, 422 not multipart, 408 too slow) is final; a
    /// <see cref="StreamedUpload"/> means the rest streams through; neither: the request body replays from its
    /// first byte for <see cref="BatchUpload.ReadAsync"/> (which also answers every malformed body as it always did).
    /// </summary>
    public static async Task<(StreamedUpload? Upload, Rejection? Rejection)> ReadAsync(HttpContext context, UploadDeadline? deadline)
    {
        var size = UploadLimits.ModelsApi;
        if (BatchUpload.Precheck(context, size, out var boundary) is { } refused)
        {
            return (null, refused);
        }
        var request = context.Request;
        var replay = new UploadReplay(request.Body);
        context.Response.RegisterForDispose(replay);
        request.Body = replay;

        var allowed = deadline?.Options.DeadlineFor(request.ContentLength ?? size.MaxRequestBytes);
        var timeout = allowed is { } limit ? new CancellationTokenSource(limit, deadline!.Value.Time) : null;
        using var linked = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, timeout.Token);
        var ct = linked?.Token ?? context.RequestAborted;

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        byte[]? prefix = null;
        StreamedUpload? decided = null;
        try
        {
            var reader = new MultipartReader(boundary, replay) { HeadersLengthLimit = 16 * 1024, HeadersCountLimit = 16 };
            var sections = 0;
            while (replay.Recorded <= MaxRecordedBytes && await reader.ReadNextSectionAsync(ct) is { } section)
            {
                sections++;
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    break;
                }
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                if (name != "upload_file")
                {
                    if (fields.Count >= 64 || await BatchUpload.ReadFieldAsync(section.Body, ct) is not { } value)
                    {
                        break;
                    }
                    fields.TryAdd(name, value);
                    continue;
                }
                if (!BatchUpload.TryFileName(disposition, out var fileName))
                {
                    break;
                }
                prefix = ArrayPool<byte>.Shared.Rent(MaxPrefixBytes);
                decided = await ProbeFileAsync(context, replay, section.Body, prefix, boundary, sections, fileName, fields, ct);
                if (decided is not null)
                {
                    prefix = null; // the upload returns it
                    context.Response.RegisterForDispose(decided);
                    // The rest streams through under the spooled path's rules, and within the same deadline.
                    replay.Enforce(new UploadTail(boundary, fields), request.ContentLength, timeout,
                        allowed is { } given ? deadline!.Value.Options.Describe(given) : null);
                    timeout = null;
                }
                break;
            }
        }
        catch (Exception) when (timeout is { IsCancellationRequested: true } && !context.RequestAborted.IsCancellationRequested)
        {
            context.Response.Headers.Connection = "close";
            return (null, BatchUpload.TimedOut(deadline!.Value.Options.Describe(allowed!.Value)));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, BatchUpload.TooLarge(size));
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException && !context.RequestAborted.IsCancellationRequested)
        {
            // A body the multipart reader refuses: the replay meets the same bytes, and BatchUpload answers as it always did.
        }
        finally
        {
            if (prefix is not null)
            {
                ArrayPool<byte>.Shared.Return(prefix);
            }
            timeout?.Dispose();
        }
        if (decided is null)
        {
            replay.Replay();
        }
        return (decided, null);
    }

    /// <summary>Reads the file part's first bytes, more while the probe needs more, up to <see cref="MaxPrefixBytes"/>.</summary>
    private static async Task<StreamedUpload?> ProbeFileAsync(HttpContext context, UploadReplay replay, Stream file, byte[] prefix, string boundary,
        int section, string? fileName, Dictionary<string, string> fields, CancellationToken ct)
    {
        var count = 0;
        var target = FirstProbeBytes;
        long? start = null;
        while (true)
        {
            var ended = false;
            while (count < target)
            {
                var read = await file.ReadAsync(prefix.AsMemory(count, target - count), ct);
                if (read == 0)
                {
                    ended = true;
                    break;
                }
                count += read;
            }
            start ??= FileStart(replay.RecordedBytes, boundary, section, prefix.AsSpan(0, count));
            if (start is not { } s)
            {
                return null;
            }
            var delimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);
            if (ended)
            {
                // The whole file is in hand: probed as a whole, its length exact.
                var whole = AudioProbe.ProbePrefix(prefix, count, count)!.Value;
                return StreamedUpload.Decide(replay, new BoundaryScan(delimiter, s), prefix, count, count, fileName, fields, whole);
            }
            var bound = UpperBound(context.Request.ContentLength, s, delimiter.Length);
            if (bound < count)
            {
                return null;
            }
            if (AudioProbe.ProbePrefix(prefix, count, bound) is { } probe)
            {
                return StreamedUpload.Decide(replay, new BoundaryScan(delimiter, s), prefix, count, bound, fileName, fields, probe);
            }
            if (target >= MaxPrefixBytes)
            {
                return null;
            }
            target = Math.Min(target * 4, MaxPrefixBytes);
        }
    }

    /// <summary>
    /// The longest the file can be: the declared body length less what comes before the file and the closing
    /// delimiter after it (the file part may be followed by more, never by less); the file limit without a length.
    /// </summary>
    private static long UpperBound(long? contentLength, long fileStart, int delimiterLength) =>
        contentLength is { } length ? Math.Min(length - fileStart - delimiterLength - 2, BatchUpload.MaxFileBytes) : BatchUpload.MaxFileBytes;

    /// <summary>
    /// Where in the body the file part's content starts: after the <paramref name="section"/>-th delimiter and its
    /// headers' blank line. Checked against the bytes the multipart reader gave: null when they do not agree.
    /// </summary>
    internal static long? FileStart(ReadOnlySpan<byte> body, string boundary, int section, ReadOnlySpan<byte> content)
    {
        var dashBoundary = Encoding.ASCII.GetBytes("--" + boundary);
        var delimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);
        var position = body.IndexOf(dashBoundary);
        for (var i = 1; i < section && position >= 0; i++)
        {
            var next = body[(position + 1)..].IndexOf(delimiter);
            position = next < 0 ? -1 : position + 1 + next;
        }
        if (position < 0)
        {
            return null;
        }
        var blank = body[position..].IndexOf("\r\n\r\n"u8);
        if (blank < 0)
        {
            return null;
        }
        var start = position + blank + 4;
        return body.Length - start >= content.Length && body.Slice(start, content.Length).SequenceEqual(content) ? start : null;
    }
}

/// <summary>
/// A batch upload decided from its beginning: its name, the fields before the file, the probe of the file's first
/// bytes (the duration reserved: bounded by the longest the file can be) and, once the body has passed, the file's
/// exact length and the probe's answer for it (what is charged).
/// </summary>
internal sealed class StreamedUpload : IDisposable
{
    private byte[]? _prefix;
    private readonly int _count;
    private readonly long _bound;
    private readonly BoundaryScan _scan;

    private StreamedUpload(UploadReplay body, BoundaryScan scan, byte[] prefix, int count, long bound, string? fileName,
        IReadOnlyDictionary<string, string> fields, ProbeResult probe)
    {
        Body = body;
        _scan = scan;
        _prefix = prefix;
        _count = count;
        _bound = bound;
        FileName = fileName;
        Fields = fields;
        Probe = probe;
    }

    /// <summary>The request body as the client sent it, from its first byte.</summary>
    public UploadReplay Body { get; }

    public string? FileName { get; }

    /// <summary>Lower-case extension without the dot, or "".</summary>
    public string Extension => Path.GetExtension(FileName ?? "").TrimStart('.').ToLowerInvariant();

    /// <summary>The form fields sent before the file (those after it go upstream unread, checked as they pass: <see cref="UploadTail"/>).</summary>
    public IReadOnlyDictionary<string, string> Fields { get; }

    /// <summary>The probe of the beginning: with the file's longest possible length, or its exact one when it all came.</summary>
    public ProbeResult Probe { get; }

    /// <summary>Whether the whole file was in the beginning (its length exact).</summary>
    public bool Whole => _count == _bound;

    internal static StreamedUpload Decide(UploadReplay body, BoundaryScan scan, byte[] prefix, int count, long bound,
        string? fileName, IReadOnlyDictionary<string, string> fields, ProbeResult probe)
    {
        var upload = new StreamedUpload(body, scan, prefix, count, bound, fileName, fields, probe);
        body.Replay(scan);
        return upload;
    }

    /// <summary>
    /// The duration of the file as it arrived, once the body has passed: the probe of the beginning with the file's
    /// exact length (what probing the whole spooled file gives); null while its end has not been seen.
    /// </summary>
    public long? MeasuredMs()
    {
        if (Whole)
        {
            return Probe.Success ? Probe.Info.DurationMs : null;
        }
        if (_scan.Found is not { } end || _prefix is null)
        {
            return null;
        }
        var length = end - _scan.Start;
        if (length < _count || length > _bound)
        {
            return null;
        }
        return AudioProbe.ProbePrefix(_prefix, _count, length) is { Success: true } exact ? exact.Info.DurationMs : null;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _prefix, null) is { } prefix)
        {
            ArrayPool<byte>.Shared.Return(prefix);
        }
    }
}
