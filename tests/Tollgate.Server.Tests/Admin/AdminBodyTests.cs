using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Tollgate.Infrastructure;

namespace Tollgate.Admin;

/// <summary>
/// Every Admin API refusal of a body is in our shape and in the caller's terms: 413 over the limit (with or without a
/// length), 415 not JSON, 400 not parseable, wrong JSON types, unknown or repeated fields — each naming the field and
/// what it takes, never a server type — and none of them stores anything.
/// </summary>
public sealed class AdminBodyTests : IAsyncLifetime
{
    private const string Model = "velma-2-stt-batch";
    private TollgateServer _server = null!;
    private TestKey _key = null!;

    public async Task InitializeAsync()
    {
        _server = await TollgateServer.StartAsync();
        _key = await _server.CreateKeyAsync(Model);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private string KeysPath => $"admin/orgs/{_key.OrgId}/users/{_key.UserId}/keys";

    private static async Task<(HttpStatusCode Status, string Code, string Detail)> ReadErrorAsync(HttpResponseMessage response)
    {
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal(["code", "detail"], body.Select(p => p.Key).Order());
        return (response.StatusCode, body["code"]!.GetValue<string>(), body["detail"]!.GetValue<string>());
    }

    /// <summary>The state a refused call must leave unchanged: one organization, its one key.</summary>
    private async Task AssertNothingStoredAsync()
    {
        using var admin = _server.CreateAdminClient();
        Assert.Single(JsonNode.Parse(await admin.GetStringAsync("admin/orgs"))!["items"]!.AsArray());
        Assert.Single(JsonNode.Parse(await admin.GetStringAsync($"admin/orgs/{_key.OrgId}/keys"))!["items"]!.AsArray());
        Assert.Single(JsonNode.Parse(await admin.GetStringAsync($"admin/orgs/{_key.OrgId}/users"))!["items"]!.AsArray());
    }

    private void AssertNoErrorLogged() =>
        Assert.DoesNotContain(_server.Logs, line => line.StartsWith("Error", StringComparison.Ordinal) || line.StartsWith("Critical", StringComparison.Ordinal));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BodyOverTheLimit_Is413InShape_WithNoStackTraceLogged(bool declaresLength)
    {
        var json = Encoding.UTF8.GetBytes("{\"name\": \"" + new string('a', 200_000) + "\"}");
        HttpContent content = declaresLength ? new ByteArrayContent(json) : new StreamContent(new UnknownLengthStream(json));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var admin = _server.CreateAdminClient();
        using var response = await admin.PostAsync("admin/orgs", content);
        var (status, code, detail) = await ReadErrorAsync(response);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal("payload_too_large", code);
        Assert.Contains("64 KB", detail);
        AssertNoErrorLogged();
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task BadlyFramedBody_Is400InShape_WithNoStackTraceLogged()
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(_server.BaseAddress.Host, _server.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /admin/orgs HTTP/1.1\r\nHost: {_server.BaseAddress.Authority}\r\nAuthorization: Bearer {TollgateServer.AdminToken}\r\n" +
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"nam\r\nzz\r\n"));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var answer = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.StartsWith("HTTP/1.1 400", answer);
        var json = answer[answer.IndexOf('{')..(answer.LastIndexOf('}') + 1)];
        var body = JsonNode.Parse(json)!.AsObject();
        Assert.Equal("invalid_request", body["code"]!.GetValue<string>());
        AssertNoErrorLogged();
        await AssertNothingStoredAsync();
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData(null)]
    public async Task BodyThatIsNotJson_Is415InShape(string? contentType)
    {
        var content = new ByteArrayContent("{\"name\": \"Acme\"}"u8.ToArray());
        if (contentType is not null)
        {
            content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        }
        using var admin = _server.CreateAdminClient();
        using var response = await admin.PostAsync("admin/orgs", content);
        var (status, code, detail) = await ReadErrorAsync(response);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Equal("unsupported_media_type", code);
        Assert.Contains("application/json", detail);
        await AssertNothingStoredAsync();
    }

    [Theory]
    [InlineData("{\"name\": ", "line 1")]
    [InlineData("{\"name\": \"a\",}", "not valid JSON")]
    [InlineData("", "not valid JSON")]
    [InlineData("[\"Acme\"]", "must be a JSON object")]
    [InlineData("\"Acme\"", "must be a JSON object")]
    public async Task BodyThatDoesNotParse_Is400InvalidJson(string json, string expected)
    {
        using var admin = _server.CreateAdminClient();
        using var response = await admin.PostAsync("admin/orgs", new StringContent(json, Encoding.UTF8, "application/json"));
        var (status, code, detail) = await ReadErrorAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("invalid_json", code);
        Assert.Contains(expected, detail);
        await AssertNothingStoredAsync();
    }

    public static TheoryData<string, string, string[]> BadFields => new()
    {
        { "orgs", """{"name": 5}""", ["name: expected text in quotes", "got the number 5"] },
        { "orgs", """{"name": "Acme", "colour": "red"}""", ["colour: not a field of this call", "it takes name"] },
        { "orgs", """{"name": "Acme", "name": "Other"}""", ["name: given more than once"] },
        { "users", """{"name": ["ana"]}""", ["name: expected text in quotes", "got a list"] },
        { "users", """{"nom": "ana"}""", ["nom: not a field of this call"] },
        { "keys", """{"models": {"velma-2-stt-batch": {"concurrency": "5", "monthly_audio_hours": 10}}}""",
            ["models.velma-2-stt-batch.concurrency: expected a whole number without quotes", "got text in quotes (\"5\")"] },
        { "keys", """{"models": {"velma-2-stt-batch": {"concurrency": 2.5, "monthly_audio_hours": 10}}}""",
            ["models.velma-2-stt-batch.concurrency: expected a whole number", "got the number 2.5"] },
        { "keys", """{"models": {"velma-2-stt-batch": {"concurrency": 5, "monthly_audio_hours": "10"}}}""",
            ["models.velma-2-stt-batch.monthly_audio_hours: expected a number without quotes"] },
        { "keys", """{"models": {"velma-2-stt-batch": {"concurrency": true, "monthly_audio_hours": 10}}}""",
            ["models.velma-2-stt-batch.concurrency: expected a whole number", "(true/false)"] },
        { "keys", """{"models": []}""", ["models: expected an object", "got a list"] },
        { "keys", """{"models": {"velma-2-stt-batch": 5}}""", ["models.velma-2-stt-batch: expected an object", "got the number 5"] },
        { "keys", """{"models": {"velma-2-stt-batch": {"concurrency": 5, "monthly_audio_hours": 1, "burst": 3}}}""",
            ["models.velma-2-stt-batch.burst: not a field of this call", "it takes concurrency, monthly_audio_hours"] },
        { "keys", """{"models": {"velma-2-stt-batch": {"concurrency": 5, "monthly_audio_hours": 1}, "velma-2-stt-batch": {"concurrency": 9, "monthly_audio_hours": 1}}}""",
            ["models.velma-2-stt-batch: given more than once"] },
        { "keys", """{"models": {"velma-2-stt-batch": {"concurrency": 5, "concurrency": 6, "monthly_audio_hours": 1}}}""",
            ["models.velma-2-stt-batch.concurrency: given more than once"] },
        { "keys", """{"name": 7, "models": {"velma-2-stt-batch": {"concurrency": "5", "monthly_audio_hours": "1"}}, "extra": 1}""",
            ["name: expected text", "concurrency: expected a whole number", "monthly_audio_hours: expected a number", "extra: not a field"] },
    };

    [Theory]
    [MemberData(nameof(BadFields))]
    public async Task WrongTypesUnknownAndRepeatedFields_Are400_NamingTheFieldAndWhatItTakes(string call, string json, string[] expected)
    {
        var path = call switch
        {
            "orgs" => "admin/orgs",
            "users" => $"admin/orgs/{_key.OrgId}/users",
            _ => KeysPath,
        };
        using var admin = _server.CreateAdminClient();
        using var response = await admin.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var (status, code, detail) = await ReadErrorAsync(response);
        Assert.True(status == HttpStatusCode.BadRequest, $"{(int)status}: {detail}");
        Assert.Equal("invalid_json", code);
        foreach (var fragment in expected)
        {
            Assert.Contains(fragment, detail);
        }
        // User terms only: no .NET or Tollgate type names, no serializer internals.
        Assert.DoesNotContain("Tollgate.", detail);
        Assert.DoesNotContain("System.", detail);
        Assert.DoesNotContain("Dto", detail);
        Assert.DoesNotContain("Int32", detail);
        Assert.DoesNotContain("LineNumber", detail);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task WellTypedBodies_StillWork_IntegerHoursAndNullName()
    {
        using var admin = _server.CreateAdminClient();
        using var response = await admin.PostAsync(KeysPath, new StringContent(
            """{"name": null, "models": {"velma-2-stt-batch": {"concurrency": 2, "monthly_audio_hours": 3}}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(3.0, created["models"]![Model]!["monthly_audio_hours"]!.GetValue<double>());

        // Out of range but well typed stays the 422 it was.
        using var invalid = await admin.PostAsync(KeysPath, new StringContent(
            """{"models": {"velma-2-stt-batch": {"concurrency": 0, "monthly_audio_hours": 3}}}""", Encoding.UTF8, "application/json"));
        var (status, code, _) = await ReadErrorAsync(invalid);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        Assert.Equal("validation_failed", code);
    }

    /// <summary>A body sent chunked: the server learns its size only by reading it.</summary>
    private sealed class UnknownLengthStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 8192));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
