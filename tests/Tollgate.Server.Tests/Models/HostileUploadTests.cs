using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Tollgate.Infrastructure;

namespace Tollgate.Models;

/// <summary>
/// Regression tests, on a real server, for what fuzzing the batch path found (docs/reliability.md): a multipart body
/// refused after its file part left the spool file behind, and a header whose duration overflowed was charged as a
/// negative one.
/// </summary>
public sealed class HostileUploadTests : IAsyncLifetime
{
    private const string Model = "velma-2-stt-batch";
    private const string Boundary = "b0und4ry";
    private TollgateServer _server = null!;
    private TestKey _key = null!;
    private HttpClient _client = null!;

    private string SpoolDirectory => Path.Combine(_server.DataDirectory, "spool");

    public async Task InitializeAsync()
    {
        _server = await TollgateServer.StartAsync();
        _key = await _server.CreateKeyAsync(Model);
        _client = _server.CreateClient(_key.Secret);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task APartWithoutContentDispositionAfterTheFile_Is400_AndTheSpoolFileIsGoneWithTheAnswer()
    {
        var body = Part("Content-Disposition: form-data; name=\"upload_file\"; filename=\"a.wav\"", TestAudio.SpeechLikeWav())
            + Part("Content-Type: text/plain", "no disposition"u8.ToArray()) + End;
        using var response = await PostRawAsync(body);
        await BatchEndpointTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request", null);
        AssertSpoolEmpty();
    }

    [Fact]
    public async Task AFieldOverItsLimitAfterTheFile_Is400_AndTheSpoolFileIsGoneWithTheAnswer()
    {
        var body = Part("Content-Disposition: form-data; name=\"upload_file\"; filename=\"a.wav\"", TestAudio.SpeechLikeWav())
            + Part("Content-Disposition: form-data; name=\"language\"", new byte[1024 * 1024 + 1]) + End;
        using var response = await PostRawAsync(body);
        await BatchEndpointTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request", null);
        AssertSpoolEmpty();
    }

    [Fact]
    public async Task AFilenameStarInACharsetDotNetRefuses_Is400_NotA500()
    {
        // filename*=UTF-7''… makes ASP.NET's header parser throw NotSupportedException (found by fuzzing: it was a 500).
        var body = Part("Content-Disposition: form-data; name=\"upload_file\"; filename*=UTF-7''%C", TestAudio.SpeechLikeWav()) + End;
        using var response = await PostRawAsync(body);
        await BatchEndpointTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request", null);
        Assert.True(!Directory.Exists(SpoolDirectory) || !Directory.EnumerateFiles(SpoolDirectory).Any(), "nothing spooled");
    }

    [Fact]
    public async Task AnOggWhoseLastGranuleOverflowsAMillisecondCount_Is400_AndChargesNothing()
    {
        // Before: granule × 1000 wrapped to a negative duration, which passed the minimum-duration check and was
        // reserved as negative quota. Now the probe refuses it, in shape, and the ledger is untouched.
        using var response = await PostRawAsync(Part("Content-Disposition: form-data; name=\"upload_file\"; filename=\"a.opus\"",
            OpusClaimingGranule(0x7FFF_FFFF_FFFF_FF00)) + End);
        await BatchEndpointTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "unprocessable_audio", null);
        var usage = await Usage.ForModelAsync(_server, _key.OrgId, Model);
        Assert.Equal(0, usage["used_ms"]!.GetValue<long>());
        Assert.Equal(0, usage["in_flight"]!.GetValue<int>());
        AssertSpoolEmpty();
    }

    private void AssertSpoolEmpty() =>
        Assert.True(!Directory.Exists(SpoolDirectory) || !Directory.EnumerateFileSystemEntries(SpoolDirectory).Any(),
            "spool: " + string.Join(", ", Directory.EnumerateFileSystemEntries(SpoolDirectory)));

    private static ByteString Part(string headers, byte[] content) =>
        new([.. Encoding.ASCII.GetBytes($"--{Boundary}\r\n{headers}\r\n\r\n"), .. content, .. "\r\n"u8]);

    private static ByteString End => new(Encoding.ASCII.GetBytes($"--{Boundary}--\r\n"));

    private async Task<HttpResponseMessage> PostRawAsync(ByteString body)
    {
        var content = new ByteArrayContent(body.Bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={Boundary}");
        return await _client.PostAsync("api/" + Model, content);
    }

    /// <summary>Two Ogg pages: an OpusHead, then a page whose granule position is <paramref name="granule"/>.</summary>
    private static byte[] OpusClaimingGranule(long granule)
    {
        byte[] head = [.. "OpusHead"u8, 1, 1, 0, 0, 0x80, 0xBB, 0, 0, 0, 0, 0];
        return [.. Page(0, 0, 0x02, head), .. Page(granule, 1, 0x04, new byte[10])];
    }

    private static byte[] Page(long granule, uint sequence, byte type, byte[] packet)
    {
        var page = new byte[27 + 1 + packet.Length];
        "OggS"u8.CopyTo(page);
        page[5] = type;
        BinaryPrimitives.WriteInt64LittleEndian(page.AsSpan(6), granule);
        BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(14), 7);
        BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(18), sequence);
        page[26] = 1;
        page[27] = (byte)packet.Length;
        packet.CopyTo(page, 28);
        return page;
    }

    private readonly record struct ByteString(byte[] Bytes)
    {
        public static ByteString operator +(ByteString a, ByteString b) => new([.. a.Bytes, .. b.Bytes]);
    }
}
