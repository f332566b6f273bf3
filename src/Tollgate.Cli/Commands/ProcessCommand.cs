using System.CommandLine;
using System.Text.Json;
using Tollgate.Cli.Output;
using Tollgate.Client;
using Tollgate.Client.Behavior;
using Tollgate.Client.Models;

namespace Tollgate.Cli.Commands;

/// <summary>
/// <c>tollgate process &lt;folders or files…&gt; --model velma-2-stt-batch [--concurrency N] [--out results/]</c> (alias
/// <c>batch</c>): works through a backlog with the SDK — at most the key's concurrency in flight (given, or learned from
/// the server), 429s absorbed, requests paced by the rate windows — writing one <c>&lt;file&gt;.json</c> per input. Run again,
/// it skips files already answered; a used-up quota stops it without retries.
/// </summary>
internal static class ProcessCommand
{
    /// <summary>Workers when <c>--concurrency</c> is not given: the SDK's gate, learned from the server, bounds what is in flight.</summary>
    internal const int LearningWorkers = 16;

    /// <summary>
    /// Workers for <c>--concurrency n</c>: 2n, so that each of the gate's n slots has a file waiting for it when its
    /// answer lands. With n workers a slot stayed empty while its worker wrote, synced and renamed the result and
    /// printed its line; the gate, not the workers, bounds the files in flight.
    /// </summary>
    internal static int Workers(int? concurrency) => concurrency is { } n ? 2 * n : LearningWorkers;

    public static Command Create(CliContext context)
    {
        var call = new ModelCallOptions();
        var inputs = new Argument<string[]>("inputs") { Description = "Audio files, or folders of them", Arity = ArgumentArity.OneOrMore };
        var concurrency = new Option<int?>("--concurrency")
        {
            Description = "Files in flight at once: your key's concurrency limit [default: learned from the server's RateLimit-Policy, else 2]",
            HelpName = "n",
        };
        var output = new Option<string>("--out")
        {
            Description = "Where the results go, one <file name>.json per input",
            HelpName = "folder",
            DefaultValueFactory = _ => "tollgate-results",
        };
        var fields = new Option<string[]>("--field") { Description = "A form field of the model, name=value (repeatable)", HelpName = "name=value" };
        var command = new Command("process", "Process a backlog of audio files with a batch model: live progress, one result per file, resumes where it stopped. " + ExitCodes.Help)
        {
            inputs, concurrency, output, fields,
        };
        command.Aliases.Add("batch");
        call.AddTo(command);
        command.SetAction((parse, ct) => context.RunModelsAsync(parse, call, async (baseAddress, key, token) =>
        {
            var model = parse.GetRequiredValue(call.Model);
            if (ModelKinds.IsStreaming(model))
            {
                return context.UsageError($"{model} is a streaming model; 'process' sends files to batch models (…-batch). Stream a file with: tollgate stream <file> --model {model}");
            }
            var limit = parse.GetValue(concurrency);
            if (limit is < 1)
            {
                return context.UsageError("--concurrency must be at least 1.");
            }
            var form = new List<KeyValuePair<string, string>>();
            foreach (var pair in parse.GetValue(fields) ?? [])
            {
                var equals = pair.IndexOf('=');
                if (equals <= 0)
                {
                    return context.UsageError($"--field: '{pair}' is not name=value.");
                }
                form.Add(new(pair[..equals], pair[(equals + 1)..]));
            }
            var (items, error) = Backlog.Plan(parse.GetRequiredValue(inputs), parse.GetRequiredValue(output), f => f.Name + ".json");
            if (error is not null)
            {
                return context.UsageError(error);
            }
            var options = new TollgateClientOptions { BaseAddress = baseAddress, ApiKey = key, MaxConcurrency = limit };
            var behavior = new TollgateClientBehavior(options);
            using var client = context.CreateModelsClient(options, behavior);
            var printer = new CliOutput(context.Stdout, parse.GetValue(context.Options.Json));
            return await new Backlog(context, printer, "processed").RunAsync(items, Workers(limit), behavior, async (item, partial, ct) =>
            {
                await using var audio = item.Input.OpenRead();
                using var answer = await client.PostBatchAsync(model, audio, item.Input.Name, form, ct);
                await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 16 * 1024, FileOptions.Asynchronous))
                {
                    await JsonSerializer.SerializeAsync(file, answer.RootElement, cancellationToken: ct);
                    await file.FlushAsync(ct);
                    file.Flush(flushToDisk: true);
                }
                long? ms = answer.RootElement.ValueKind == JsonValueKind.Object && answer.RootElement.TryGetProperty("duration_ms", out var d)
                    && d.TryGetInt64(out var v) ? v : null;
                return new BacklogOutcome(ms, null);
            }, token);
        }, ct));
        return command;
    }
}

/// <summary>Tells batch models from streaming ones by the contracts' naming (<c>…-streaming</c>, <c>…-streaming-…</c>).</summary>
internal static class ModelKinds
{
    public static bool IsStreaming(string model) => model.Contains("-streaming", StringComparison.Ordinal);
}
