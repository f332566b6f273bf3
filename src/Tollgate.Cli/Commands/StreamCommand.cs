using System.CommandLine;
using System.Text.Json;
using Tollgate.Client.Models;

namespace Tollgate.Cli.Commands;

/// <summary>
/// <c>tollgate stream &lt;file&gt; --model velma-2-stt-streaming [--audio-format s16le --sample-rate 16000 --channels 1] [--config default]</c>:
/// streams a file over the model's WebSocket and prints each message as one JSON line.
/// </summary>
internal static class StreamCommand
{
    public static Command Create(CliContext context)
    {
        var call = new ModelCallOptions();
        var file = new Argument<FileInfo>("file") { Description = "The audio file to stream" };
        var format = new Option<string?>("--audio-format") { Description = "audio_format (raw formats need --sample-rate and --channels); default: detected by the server" };
        var rate = new Option<int?>("--sample-rate") { Description = "sample_rate, for raw formats" };
        var channels = new Option<int?>("--channels") { Description = "num_channels, for raw formats" };
        var config = new Option<string?>("--config") { Description = "A first text frame: 'default' or a JSON config (velma-2-streaming requires one)" };
        var parameters = new Option<string[]>("--param") { Description = "Another query parameter, name=value (repeatable)", AllowMultipleArgumentsPerToken = false };
        var command = new Command("stream", "Stream an audio file to a streaming model and print its messages as JSON lines. " + ExitCodes.StreamHelp) { file, format, rate, channels, config, parameters };
        call.AddTo(command);
        command.SetAction((parse, ct) => context.RunModelsAsync(parse, call, async (baseAddress, key, token) =>
        {
            var path = parse.GetRequiredValue(file);
            if (!path.Exists)
            {
                return context.UsageError($"{path.FullName} does not exist.");
            }
            var query = new Dictionary<string, string>(StringComparer.Ordinal);
            if (parse.GetValue(format) is { } f) query["audio_format"] = f;
            if (parse.GetValue(rate) is { } r) query["sample_rate"] = r.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (parse.GetValue(channels) is { } c) query["num_channels"] = c.ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var pair in parse.GetValue(parameters) ?? [])
            {
                var equals = pair.IndexOf('=');
                if (equals <= 0)
                {
                    return context.UsageError($"--param: '{pair}' is not name=value.");
                }
                query[pair[..equals]] = pair[(equals + 1)..];
            }
            await using var audio = path.OpenRead();
            using var client = new TollgateStreamingClient(baseAddress, key);
            var result = await client.StreamAsync(parse.GetRequiredValue(call.Model), audio, query, parse.GetValue(config),
                message =>
                {
                    context.Stdout.WriteLine(JsonSerializer.Serialize(message));
                    return ValueTask.CompletedTask;
                }, cancellationToken: token);
            if (result.Succeeded)
            {
                return ExitCodes.Ok;
            }
            context.Stderr.WriteLine($"error: {result.Error ?? "the stream ended without done"}{(result.ErrorCode is null ? "" : $" ({result.ErrorCode})")} [close {result.CloseCode}]");
            return ExitCodes.ApiError;
        }, ct));
        return command;
    }
}
