using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Tollgate.Server.Admission;
using Tollgate.Server.Http;

namespace Tollgate.Server.Models;

/// <summary>
/// The parts of a streamed upload that come after its file (<see cref="UploadReplay.Enforce"/>): kept as they pass and,
/// before the body's last byte goes upstream, checked by the rules <see cref="BatchUpload.ReadAsync"/> applies to a
/// spooled body — every part with a Content-Disposition, each field at most <see cref="BatchUpload.MaxFieldBytes"/>,
/// well-formed multipart up to its closing delimiter. The fields themselves go upstream unread: Tollgate needs none of
/// them. Only what follows the file is held, at most <see cref="MaxBytes"/> (a body whose fields after the file are
/// larger is refused 413: they would have to be held whole to be checked before the upstream sees the body complete).
/// </summary>
internal sealed class UploadTail(string boundary, IReadOnlyDictionary<string, string> fieldsBefore) : IDisposable
{
    /// <summary>The most of the parts after the file that is held to be checked (the room the body limit leaves around a 100 MB file).</summary>
    public const int MaxBytes = 2 * 1024 * 1024;

    private byte[]? _bytes;
    private int _count;

    /// <summary>Keeps <paramref name="bytes"/>; false when the parts after the file outgrow <see cref="MaxBytes"/>.</summary>
    public bool Append(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return true;
        }
        if (_count + bytes.Length > MaxBytes)
        {
            return false;
        }
        if (_bytes is null || _count + bytes.Length > _bytes.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_count + bytes.Length, _bytes is null ? 256 : _bytes.Length * 2));
            _bytes?.AsSpan(0, _count).CopyTo(larger);
            if (_bytes is not null)
            {
                ArrayPool<byte>.Shared.Return(_bytes);
            }
            _bytes = larger;
        }
        bytes.CopyTo(_bytes.AsSpan(_count));
        _count += bytes.Length;
        return true;
    }

    /// <summary>
    /// The refusal the spooled path would give the parts after the file, or null when they pass. They start right after
    /// the file part's closing delimiter (<c>CRLF--boundary</c>).
    /// </summary>
    public async ValueTask<Rejection?> CheckAsync(CancellationToken ct)
    {
        var tail = _bytes.AsSpan(0, _count);
        if (tail.StartsWith("--"u8))
        {
            return null; // the closing delimiter: nothing came after the file (what follows it is the epilogue, ignored)
        }
        // Parts follow: read as BatchUpload reads them, from a body that starts at the delimiter.
        var start = Encoding.ASCII.GetBytes("--" + boundary);
        var body = new byte[start.Length + _count];
        start.CopyTo(body, 0);
        tail.CopyTo(body.AsSpan(start.Length));
        var names = new HashSet<string>(fieldsBefore.Keys, StringComparer.Ordinal);
        try
        {
            var reader = new MultipartReader(boundary, new MemoryStream(body, writable: false)) { HeadersLengthLimit = 16 * 1024, HeadersCountLimit = 16 };
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    return Malformed();
                }
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                if (names.Count < BatchUpload.MaxFields)
                {
                    if (await BatchUpload.ReadFieldAsync(section.Body, ct) is null)
                    {
                        return BatchUpload.FieldTooLarge(name);
                    }
                    names.Add(name);
                }
                else
                {
                    await section.Body.CopyToAsync(Stream.Null, ct);
                }
            }
            return null;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            return Malformed();
        }
    }

    /// <summary>A body that is not well-formed multipart: what the spooled path answers it.</summary>
    public static Rejection Malformed() => BatchUpload.InvalidRequest();

    public static Rejection TooLong() => new(StatusCodes.Status413PayloadTooLarge, CloseCodes.InvalidParameters, ErrorCodes.PayloadTooLarge,
        $"The form fields after the file are larger than {MaxBytes / (1024 * 1024)} MB. Send them before the file.");

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _bytes, null) is { } bytes)
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }
}
