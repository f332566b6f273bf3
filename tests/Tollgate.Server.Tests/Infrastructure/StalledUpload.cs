using System.Net.Sockets;
using System.Text;

namespace Tollgate.Infrastructure;

/// <summary>
/// A client that stops sending: a raw HTTP/1.1 multipart upload over a socket that declares its full length, sends
/// part of the body and then only listens, as a stalled or hostile uploader does. (HttpClient would not hand back an
/// answer before its request body is sent.)
/// </summary>
public sealed class StalledUpload : IAsyncDisposable
{
    private const string Boundary = "tollgate-stalled-boundary";
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private StalledUpload(TcpClient tcp, long declaredLength)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        DeclaredLength = declaredLength;
    }

    /// <summary>The Content-Length the request declared.</summary>
    public long DeclaredLength { get; }

    /// <summary>Sends the headers and <paramref name="sentFraction"/> of the multipart body holding <paramref name="file"/>, then stops.</summary>
    public static async Task<StalledUpload> StartAsync(Uri baseAddress, string path, string apiKey, byte[] file, double sentFraction = 0.5)
    {
        var head = Encoding.ASCII.GetBytes(
            $"--{Boundary}\r\nContent-Disposition: form-data; name=\"upload_file\"; filename=\"audio.wav\"\r\nContent-Type: audio/wav\r\n\r\n");
        var tail = Encoding.ASCII.GetBytes($"\r\n--{Boundary}--\r\n");
        var body = head.Concat(file).Concat(tail).ToArray();
        var tcp = new TcpClient();
        await tcp.ConnectAsync(baseAddress.Host, baseAddress.Port);
        var upload = new StalledUpload(tcp, body.Length);
        var request = Encoding.ASCII.GetBytes(
            $"POST /{path.TrimStart('/')} HTTP/1.1\r\nHost: {baseAddress.Authority}\r\nX-API-Key: {apiKey}\r\n" +
            $"Content-Type: multipart/form-data; boundary={Boundary}\r\nContent-Length: {body.Length}\r\n\r\n");
        await upload._stream.WriteAsync(request);
        await upload._stream.WriteAsync(body.AsMemory(0, (int)(body.Length * sentFraction)));
        await upload._stream.FlushAsync();
        return upload;
    }

    /// <summary>Reads the answer until the server closes the connection; the body de-chunked.</summary>
    public async Task<(int Status, Dictionary<string, string> Headers, string Body)> ReadResponseAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var received = new MemoryStream();
        var buffer = new byte[8192];
        int read;
        while ((read = await _stream.ReadAsync(buffer, cts.Token)) > 0)
        {
            received.Write(buffer, 0, read);
        }
        var text = Encoding.UTF8.GetString(received.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var lines = text[..split].Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1]);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var body = text[(split + 4)..];
        if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            var decoded = new StringBuilder();
            var at = 0;
            while (true)
            {
                var end = body.IndexOf("\r\n", at, StringComparison.Ordinal);
                var size = Convert.ToInt32(body[at..end].Split(';')[0], 16);
                if (size == 0)
                {
                    break;
                }
                decoded.Append(body, end + 2, size);
                at = end + 2 + size + 2;
            }
            body = decoded.ToString();
        }
        return (status, headers, body);
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
