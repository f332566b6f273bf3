using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tollgate.Server.Platform;

/// <summary>Why a JSON body could not be taken: a status, a machine code and a sentence.</summary>
internal sealed class BodyRefusal(int status, string code, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string Detail { get; } = detail;
}

/// <summary>
/// Reads a <c>POST /api_service</c> JSON body as it streams in, never holding it whole: the top-level object's small
/// fields (at most 64 KB each) are parsed as they come, and the <c>audio_base64</c> string is decoded on the fly,
/// a few KB at a time, into the spool file — counting the decoded bytes, so audio over the limit is refused (413) the
/// moment it passes it, and text that is not base64 (400) at the first bad character. Whitespace and JSON escapes of
/// whitespace and <c>/</c> inside the base64 are allowed (line-wrapped base64 is common).
/// </summary>
internal sealed class PlatformJsonBody : IDisposable
{
    private const int MaxFieldBytes = 64 * 1024;
    private const int MaxKeyBytes = 256;
    private const int MaxFields = 32;
    public const string AudioField = "audio_base64";

    private readonly Stream _body;
    private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private int _position;
    private int _length;
    private bool _end;

    private PlatformJsonBody(Stream body) => _body = body;

    public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);

    /// <summary>The fields other than the audio, and whether an <c>audio_base64</c> string was present (its bytes are in <paramref name="audio"/>).</summary>
    public static async Task<(Dictionary<string, JsonNode?> Fields, bool AudioGiven, long AudioBytes)> ReadAsync(
        Stream body, Stream audio, long maxAudioBytes, CancellationToken ct)
    {
        using var reader = new PlatformJsonBody(body);
        return await reader.ReadObjectAsync(audio, maxAudioBytes, ct);
    }

    private static BodyRefusal Invalid(string detail) => new(StatusCodes.Status422UnprocessableEntity, Http.ErrorCodes.InvalidJson, detail);

    private static BodyRefusal NotBase64() =>
        new(StatusCodes.Status400BadRequest, PlatformCodes.InvalidBase64, "audio_base64 is not valid base64 (standard alphabet, padded).");

    private async Task<(Dictionary<string, JsonNode?>, bool, long)> ReadObjectAsync(Stream audio, long maxAudioBytes, CancellationToken ct)
    {
        var fields = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        var audioGiven = false;
        long audioBytes = 0;
        if (await NextTokenAsync(ct) != '{')
        {
            throw Invalid("The body is not a JSON object.");
        }
        var b = await NextTokenAsync(ct);
        if (b != '}')
        {
            while (true)
            {
                if (b != '"')
                {
                    throw Invalid("Expected a field name in double quotes.");
                }
                var key = await ReadKeyAsync(ct);
                if (await NextTokenAsync(ct) != ':')
                {
                    throw Invalid($"Expected ':' after \"{key}\".");
                }
                if (fields.ContainsKey(key) || (key == AudioField && audioGiven))
                {
                    throw Invalid($"The field '{key}' appears twice.");
                }
                if (key == AudioField)
                {
                    var first = await NextTokenAsync(ct);
                    if (first == 'n')
                    {
                        await ExpectAsync("ull", ct);
                        fields[key] = null;
                    }
                    else if (first != '"')
                    {
                        throw new BodyRefusal(StatusCodes.Status422UnprocessableEntity, Http.ErrorCodes.ValidationFailed, "audio_base64 must be a string.");
                    }
                    else
                    {
                        audioGiven = true;
                        audioBytes = await DecodeBase64Async(audio, maxAudioBytes, ct);
                    }
                }
                else
                {
                    if (fields.Count >= MaxFields)
                    {
                        throw Invalid("The body has too many fields.");
                    }
                    fields[key] = await ReadValueAsync(key, ct);
                }
                b = await NextTokenAsync(ct);
                if (b == '}')
                {
                    break;
                }
                if (b != ',')
                {
                    throw Invalid("Expected ',' or '}' between fields.");
                }
                b = await NextTokenAsync(ct);
            }
        }
        if (await NextTokenAsync(ct) != -1)
        {
            throw Invalid("The body has content after its JSON object.");
        }
        return (fields, audioGiven, audioBytes);
    }

    private async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        if (_position < _length)
        {
            return true;
        }
        if (_end)
        {
            return false;
        }
        _position = 0;
        _length = await _body.ReadAsync(_buffer, ct);
        if (_length == 0)
        {
            _end = true;
            return false;
        }
        return true;
    }

    private async ValueTask<int> ReadByteAsync(CancellationToken ct) =>
        _position < _length || await FillAsync(ct) ? _buffer[_position++] : -1;

    /// <summary>The next byte that is not JSON whitespace, or -1 at the end.</summary>
    private async ValueTask<int> NextTokenAsync(CancellationToken ct)
    {
        while (true)
        {
            var b = await ReadByteAsync(ct);
            if (b is not (' ' or '\t' or '\r' or '\n'))
            {
                return b;
            }
        }
    }

    private async Task ExpectAsync(string rest, CancellationToken ct)
    {
        foreach (var c in rest)
        {
            if (await ReadByteAsync(ct) != c)
            {
                throw Invalid("The body is not valid JSON.");
            }
        }
    }

    /// <summary>A field name (the opening quote already read), unescaped.</summary>
    private async Task<string> ReadKeyAsync(CancellationToken ct)
    {
        var raw = new ArrayBufferWriter<byte>(64);
        raw.Write("\""u8);
        await CopyStringAsync(raw, MaxKeyBytes, ct);
        try
        {
            return JsonSerializer.Deserialize<string>(raw.WrittenSpan) ?? "";
        }
        catch (JsonException)
        {
            throw Invalid("A field name is not a valid JSON string.");
        }
    }

    /// <summary>Copies a string's bytes up to and including its closing quote (the opening one already read).</summary>
    private async Task CopyStringAsync(ArrayBufferWriter<byte> raw, int max, CancellationToken ct)
    {
        var escaped = false;
        while (true)
        {
            var b = await ReadByteAsync(ct);
            if (b == -1)
            {
                throw Invalid("The body ends inside a string.");
            }
            if (raw.WrittenCount >= max)
            {
                throw Invalid($"A field is longer than {max / 1024} KB.");
            }
            raw.GetSpan(1)[0] = (byte)b;
            raw.Advance(1);
            if (escaped)
            {
                escaped = false;
            }
            else if (b == '\\')
            {
                escaped = true;
            }
            else if (b == '"')
            {
                return;
            }
        }
    }

    /// <summary>One small JSON value (object, array, string, number, literal), parsed.</summary>
    private async Task<JsonNode?> ReadValueAsync(string key, CancellationToken ct)
    {
        var raw = new ArrayBufferWriter<byte>(64);
        var depth = 0;
        var first = await NextTokenAsync(ct);
        var b = first;
        while (true)
        {
            if (b == -1)
            {
                throw Invalid($"The body ends inside the value of '{key}'.");
            }
            if (raw.WrittenCount >= MaxFieldBytes)
            {
                throw Invalid($"The value of '{key}' is longer than {MaxFieldBytes / 1024} KB.");
            }
            if (depth == 0 && raw.WrittenCount > 0 && b is ',' or '}' or ' ' or '\t' or '\r' or '\n' && first is not ('{' or '['))
            {
                // The end of a number or literal: give the delimiter back.
                _position--;
                break;
            }
            raw.GetSpan(1)[0] = (byte)b;
            raw.Advance(1);
            if (b == '"')
            {
                await CopyStringAsync(raw, MaxFieldBytes, ct);
                if (depth == 0)
                {
                    break;
                }
            }
            else if (b is '{' or '[')
            {
                depth++;
            }
            else if (b is '}' or ']')
            {
                depth--;
                if (depth == 0)
                {
                    break;
                }
                if (depth < 0)
                {
                    throw Invalid($"The value of '{key}' is not valid JSON.");
                }
            }
            b = await ReadByteAsync(ct);
        }
        try
        {
            return JsonNode.Parse(raw.WrittenSpan);
        }
        catch (JsonException)
        {
            throw Invalid($"The value of '{key}' is not valid JSON.");
        }
    }

    /// <summary>Decodes the base64 string (its opening quote already read) into <paramref name="audio"/>; returns the decoded length.</summary>
    private async Task<long> DecodeBase64Async(Stream audio, long maxBytes, CancellationToken ct)
    {
        const int Chunk = 16 * 1024;
        var text = ArrayPool<byte>.Shared.Rent(Chunk + 8);
        var bytes = ArrayPool<byte>.Shared.Rent(Chunk);
        try
        {
            var held = 0;
            long written = 0;
            var padded = false;
            while (true)
            {
                if (!await FillAsync(ct))
                {
                    throw Invalid("The body ends inside audio_base64.");
                }
                var closed = false;
                while (_position < _length && held < Chunk)
                {
                    var c = _buffer[_position++];
                    if (c == '"')
                    {
                        closed = true;
                        break;
                    }
                    if (c == '\\')
                    {
                        var escaped = await ReadEscapeAsync(ct);
                        if (escaped < 0)
                        {
                            continue;
                        }
                        c = (byte)escaped;
                    }
                    if (c is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
                    {
                        continue;
                    }
                    if (padded && c != '=')
                    {
                        throw NotBase64();
                    }
                    if (c == '=')
                    {
                        padded = true;
                    }
                    else if (!(char.IsAsciiLetterOrDigit((char)c) || c is (byte)'+' or (byte)'/'))
                    {
                        throw NotBase64();
                    }
                    text[held++] = c;
                }
                // Decode whole quads, keeping the last one back until the end (it may carry padding).
                var ready = closed ? held : Math.Max(0, (held / 4 - 1) * 4);
                if (ready > 0)
                {
                    var status = Base64.DecodeFromUtf8(text.AsSpan(0, ready), bytes, out var consumed, out var produced, isFinalBlock: closed);
                    if (status != OperationStatus.Done || consumed != ready)
                    {
                        throw NotBase64();
                    }
                    written += produced;
                    if (written > maxBytes)
                    {
                        throw new BodyRefusal(StatusCodes.Status413PayloadTooLarge, PlatformCodes.FileTooLarge, "");
                    }
                    await audio.WriteAsync(bytes.AsMemory(0, produced), ct);
                    text.AsSpan(ready, held - ready).CopyTo(text);
                    held -= ready;
                }
                if (closed)
                {
                    await audio.FlushAsync(ct);
                    return written;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(text);
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>After a backslash inside the base64: the character it stands for, or -1 for escaped whitespace (skipped).</summary>
    private async ValueTask<int> ReadEscapeAsync(CancellationToken ct)
    {
        var e = await ReadByteAsync(ct);
        switch (e)
        {
            case '/':
                return '/';
            case 'n' or 'r' or 't':
                return -1;
            case 'u':
                var hex = new char[4];
                for (var i = 0; i < 4; i++)
                {
                    var h = await ReadByteAsync(ct);
                    if (h == -1)
                    {
                        throw NotBase64();
                    }
                    hex[i] = (char)h;
                }
                if (!int.TryParse(hex, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var code) || code > 127)
                {
                    throw NotBase64();
                }
                return code is ' ' or '\t' or '\r' or '\n' ? -1 : code;
            default:
                throw NotBase64();
        }
    }
}
