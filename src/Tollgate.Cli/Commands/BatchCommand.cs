using System.CommandLine;
using System.Text.Json;
using Tollgate.Client;
using Tollgate.Client.Models;

namespace Tollgate.Cli.Commands;

/// <summary>
/// <c>tollgate batch &lt;files…&gt; --model velma-2-stt-batch [--concurrency 4] [--out results/]</c>: works through a backlog
/// of files, at most <c>--concurrency</c> at once (set it to the key's limit), retrying 429s as the server's
/// <c>Retry-After</c> says and stopping at a used-up monthly quota. Prints one line per file and a summary.
/// </summary>
internal static class BatchCommand
{
    public static Command Create(CliContext context)
    {
        var call = new ModelCallOptions();
        var files = new Argument<FileInfo[]>("files") { Description = "Audio files to process", Arity = ArgumentArity.OneOrMore };
        var concurrency = new Option<int>("--concurrency") { Description = "Files in flight at once (your key's concurrency limit)", DefaultValueFactory = _ => 2 };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Write each answer to <out>/<file name>.json" };
        var fields = new Option<string[]>("--field") { Description = "A form field of the model, name=value (repeatable)" };
        var command = new Command("batch", "Send a backlog of audio files to a batch model, a few at a time") { files, concurrency, output, fields };
        call.AddTo(command);
        command.SetAction((parse, ct) => context.RunModelsAsync(parse, call, async (baseAddress, key, token) =>
        {
            var limit = parse.GetValue(concurrency);
            if (limit < 1)
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
            var outDirectory = parse.GetValue(output);
            outDirectory?.Create();
            var model = parse.GetRequiredValue(call.Model);
            using var client = new TollgateModelsClient(baseAddress, key);
            using var gate = new SemaphoreSlim(limit);
            using var quotaGone = CancellationTokenSource.CreateLinkedTokenSource(token);
            var failed = 0;
            var done = 0;
            var backlog = parse.GetRequiredValue(files);
            var lines = new Lock();
            var work = backlog.Select(async file =>
            {
                await gate.WaitAsync(quotaGone.Token);
                string line;
                try
                {
                    await using var audio = file.OpenRead();
                    using var answer = await client.PostBatchAsync(model, audio, file.Name, form, quotaGone.Token);
                    if (outDirectory is not null)
                    {
                        await File.WriteAllTextAsync(Path.Combine(outDirectory.FullName, file.Name + ".json"), JsonSerializer.Serialize(answer.RootElement), quotaGone.Token);
                    }
                    var duration = answer.RootElement.TryGetProperty("duration_ms", out var d) ? $"{d.GetInt64()} ms" : "ok";
                    line = $"ok     {file.Name} ({duration})";
                }
                catch (TollgateQuotaExceededException ex)
                {
                    Interlocked.Increment(ref failed);
                    line = $"quota  {file.Name}: {ex.Detail}";
                    await quotaGone.CancelAsync();
                }
                catch (TollgateApiException ex)
                {
                    Interlocked.Increment(ref failed);
                    line = $"failed {file.Name}: {ex.Detail} [HTTP {(int)ex.StatusCode}]";
                }
                finally
                {
                    gate.Release();
                }
                lock (lines)
                {
                    context.Stdout.WriteLine($"[{Interlocked.Increment(ref done)}/{backlog.Length}] {line}");
                }
            }).ToList();
            try
            {
                await Task.WhenAll(work);
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested)
            {
                // The quota ran out: files not started were skipped.
            }
            var skipped = backlog.Length - done;
            context.Stdout.WriteLine($"{done - failed} done, {failed} failed{(skipped > 0 ? $", {skipped} skipped (monthly quota used up)" : "")}.");
            return failed == 0 && skipped == 0 ? ExitCodes.Ok : ExitCodes.ApiError;
        }, ct));
        return command;
    }
}
