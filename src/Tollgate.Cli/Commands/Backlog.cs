using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using Tollgate.Cli.Output;
using Tollgate.Client;
using Tollgate.Client.Behavior;
using Tollgate.Client.Bulk;

namespace Tollgate.Cli.Commands;

/// <summary>One input of a backlog and where its result goes.</summary>
internal sealed record BacklogItem(FileInfo Input, string ResultPath)
{
    /// <summary>Where the result is written before it is renamed into place: a file of this name is never taken as done.</summary>
    public string PartialPath => Path.Combine(Path.GetDirectoryName(ResultPath)!, "." + Path.GetFileName(ResultPath) + ".partial");
}

/// <summary>What one file's work produced: the audio it covered, for the totals.</summary>
internal readonly record struct BacklogOutcome(long? AudioMs, string? Note);

/// <summary>
/// Works through a backlog of files with the SDK's bounded queue: files whose result already exists are skipped (a
/// result is written to a hidden <c>.partial</c> file and renamed into place only when complete, so a run cut off never
/// leaves something that looks done), a used-up quota or a refused key stops the run without retries, Ctrl+C stops
/// feeding and lets the files in flight finish. Progress: a live table on a terminal, a line per file otherwise
/// (nothing with <c>--json</c>, which prints one summary object).
/// </summary>
internal sealed class Backlog(CliContext context, CliOutput output, string verb)
{
    private readonly CliOutput _output = output;
    private readonly string _verb = verb;

    /// <summary>How long files in flight may take to finish after Ctrl+C before they are cut off.</summary>
    internal static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(20);

    private readonly Lock _lock = new();
    private readonly List<FileReport> _reports = [];
    private int _done;
    private int _failed;
    private long _audioMs;

    private sealed record FileReport(string File, string Status, string? Result, long? AudioMs, string? Error, string? Code);

    /// <summary>The inputs (files, and the files of folders, sorted) and their result paths; an error names what is wrong.</summary>
    public static (List<BacklogItem> Items, string? Error) Plan(IEnumerable<string> inputs, string outDirectory, Func<FileInfo, string> resultName)
    {
        var items = new List<BacklogItem>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            var path = Path.GetFullPath(input);
            IEnumerable<FileInfo> files;
            if (Directory.Exists(path))
            {
                files = new DirectoryInfo(path).EnumerateFiles()
                    .Where(f => !f.Name.StartsWith('.') && !f.Name.EndsWith(".partial", StringComparison.Ordinal))
                    .OrderBy(f => f.Name, StringComparer.Ordinal);
            }
            else if (File.Exists(path))
            {
                files = [new FileInfo(path)];
            }
            else
            {
                return ([], $"{input}: no such file or folder.");
            }
            foreach (var file in files)
            {
                var result = Path.GetFullPath(Path.Combine(outDirectory, resultName(file)));
                if (string.Equals(result, file.FullName, StringComparison.Ordinal))
                {
                    continue; // a result of an earlier run inside an input folder
                }
                if (seen.TryGetValue(result, out var other))
                {
                    if (other == file.FullName)
                    {
                        continue;
                    }
                    return ([], $"{other} and {file.FullName} would both write {result}; process them into different --out folders.");
                }
                seen[result] = file.FullName;
                items.Add(new BacklogItem(file, result));
            }
        }
        return items.Count == 0 ? ([], "No input files.") : (items, null);
    }

    /// <summary>Runs the backlog; returns the exit code.</summary>
    public async Task<int> RunAsync(IReadOnlyList<BacklogItem> items, int workers, TollgateClientBehavior behavior,
        Func<BacklogItem, string, CancellationToken, Task<BacklogOutcome>> work, CancellationToken stop)
    {
        var pending = new List<BacklogItem>();
        foreach (var item in items)
        {
            if (File.Exists(item.ResultPath))
            {
                Record(new FileReport(item.Input.Name, "skipped", item.ResultPath, null, null, null));
            }
            else
            {
                pending.Add(item);
            }
        }
        var skipped = items.Count - pending.Count;
        Directory.CreateDirectory(Path.GetDirectoryName(items[0].ResultPath)!);

        // Ctrl+C (stop) ends the feeding at once; files in flight get StopGrace to finish before they are cut off.
        using var hardStop = new CancellationTokenSource();
        using var onStop = stop.Register(() => hardStop.CancelAfter(StopGrace));
        var clock = Stopwatch.StartNew();
        var progress = new ProgressView(this, pending.Count, skipped, behavior, clock);
        var interactive = !_output.IsJson && _output.IsTerminal;
        if (!_output.IsJson && skipped > 0)
        {
            _output.Line($"{skipped} of {items.Count} files already have a result in {Path.GetDirectoryName(items[0].ResultPath)}; skipping them.");
        }

        Exception? stopReason;
        await using (var queue = new TollgateWorkQueue<BacklogItem>(async (item, ct) =>
        {
            BacklogOutcome outcome;
            try
            {
                outcome = await work(item, item.PartialPath, ct);
                File.Move(item.PartialPath, item.ResultPath, overwrite: true);
            }
            catch (Exception ex)
            {
                TryDelete(item.PartialPath);
                if (ex is OperationCanceledException)
                {
                    throw;
                }
                var api = ex as TollgateApiException;
                Interlocked.Increment(ref _failed);
                var report = new FileReport(item.Input.Name, "failed", null, null, api?.Detail ?? ex.Message, api?.Code);
                Record(report);
                progress.Line(report, interactive);
                throw;
            }
            Interlocked.Increment(ref _done);
            Interlocked.Add(ref _audioMs, outcome.AudioMs ?? 0);
            var done = new FileReport(item.Input.Name, "done", item.ResultPath, outcome.AudioMs, outcome.Note, null);
            Record(done);
            progress.Line(done, interactive);
        }, new TollgateWorkQueueOptions
        {
            Workers = workers,
            Capacity = Math.Max(2, workers * 2),
            StopsQueue = ex => ex is TollgateQuotaExceededException or TollgateAuthenticationException,
        }, hardStop.Token))
        {
            var feeding = Task.Run(async () =>
            {
                foreach (var item in pending)
                {
                    if (stop.IsCancellationRequested || !await queue.EnqueueAsync(item, stop).AsTask().ContinueWith(t => t.IsCompletedSuccessfully && t.Result))
                    {
                        break;
                    }
                }
            });
            if (interactive)
            {
                await _output.Ansi.Live(progress.Render()).AutoClear(false).StartAsync(async live =>
                {
                    while (!feeding.IsCompleted || queue.Queued + queue.Running > 0)
                    {
                        live.UpdateTarget(progress.Render());
                        await Task.WhenAny(Task.Delay(250), feeding);
                        if (feeding.IsCompleted && queue.Queued + queue.Running == 0)
                        {
                            break;
                        }
                    }
                    live.UpdateTarget(progress.Render());
                });
            }
            await feeding;
            stopReason = await queue.CompleteAsync();
        }

        var notRun = pending.Count - _done - _failed;
        var interrupted = stop.IsCancellationRequested && stopReason is null;
        return Summarize(items.Count, skipped, notRun, clock.Elapsed, behavior.Statistics, stopReason, interrupted);
    }

    private int Summarize(int total, int skipped, int notRun, TimeSpan elapsed, TollgateClientStatistics stats, Exception? stopReason, bool interrupted)
    {
        var hours = _audioMs / 3_600_000d;
        var reason = stopReason switch
        {
            TollgateQuotaExceededException quota =>
                $"The monthly quota is used up: {quota.Detail}{(quota.ResetsAt is { } at ? $" It resets at {Tables.Time(at)}." : "")} " +
                $"{notRun} files were not sent (nothing was retried); run the same command again after the reset, or with another key, to continue.",
            TollgateAuthenticationException auth => $"The key was refused: {auth.Detail} ({auth.Code}). {notRun} files were not sent.",
            _ when interrupted => $"Stopped by Ctrl+C: {_done} files done in this run, {notRun} not sent; run the same command again to continue.",
            _ => null,
        };
        if (_output.IsJson)
        {
            List<FileReport> files;
            lock (_lock)
            {
                files = [.. _reports.OrderBy(r => r.File, StringComparer.Ordinal)];
            }
            _output.Json(new
            {
                verb = _verb,
                files_total = total,
                done = _done,
                failed = _failed,
                skipped,
                not_run = notRun,
                audio_ms = _audioMs,
                elapsed_ms = (long)elapsed.TotalMilliseconds,
                requests = stats.Requests,
                rate_limited = stats.RateLimited,
                rate_limited_absorbed = stats.RateLimitedAbsorbed,
                stopped = stopReason switch { TollgateQuotaExceededException => "quota_exceeded", TollgateAuthenticationException => "key_refused", _ => interrupted ? "interrupted" : null },
                message = reason,
                files = files.Select(f => new { file = f.File, status = f.Status, result = f.Result, audio_ms = f.AudioMs, error = f.Error, code = f.Code }),
            });
        }
        else
        {
            var table = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn(new TableColumn("").RightAligned());
            void Row(string name, string value) => table.AddRow(new Text(name), new Text(value));
            Row("Files", Number(total));
            Row($"{Capitalized(_verb)} in this run", Number(_done));
            Row("Already done (skipped)", Number(skipped));
            Row("Failed", Number(_failed));
            Row("Not sent", Number(notRun));
            Row("Audio", Invariant($"{hours:0.####} h"));
            Row("Elapsed", Invariant($"{elapsed.TotalSeconds:0.0} s"));
            Row("Throughput", elapsed.TotalSeconds > 0 ? Invariant($"{_done / elapsed.TotalSeconds:0.##} files/s") : "—");
            Row("Requests", Number(stats.Requests));
            Row("429s absorbed", Number(stats.RateLimitedAbsorbed));
            _output.Write(table);
            if (reason is not null)
            {
                _output.Line(reason);
            }
        }
        if (reason is not null && !_output.IsJson)
        {
            context.Stderr.WriteLine("error: " + reason);
        }
        return stopReason switch
        {
            TollgateQuotaExceededException => ExitCodes.QuotaExhausted,
            not null => ExitCodes.ApiError,
            _ when interrupted => ExitCodes.Interrupted,
            _ => _failed > 0 ? ExitCodes.ApiError : ExitCodes.Ok,
        };
    }

    private void Record(FileReport report)
    {
        lock (_lock)
        {
            _reports.Add(report);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Left behind, it is never taken as a result, and the next run overwrites it.
        }
    }

    private static string Number(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Capitalized(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    /// <summary>The live numbers: done, failed, remaining, audio hours, throughput, ETA, 429s absorbed.</summary>
    private sealed class ProgressView(Backlog backlog, int pending, int skipped, TollgateClientBehavior behavior, Stopwatch clock)
    {
        public string Status()
        {
            var done = Volatile.Read(ref backlog._done);
            var failed = Volatile.Read(ref backlog._failed);
            var remaining = pending - done - failed;
            var seconds = clock.Elapsed.TotalSeconds;
            var rate = seconds > 0 ? (done + failed) / seconds : 0;
            var eta = rate > 0 ? TimeSpan.FromSeconds(remaining / rate) : (TimeSpan?)null;
            return Invariant($"done {done}, failed {failed}, remaining {remaining}{(skipped > 0 ? $", skipped {skipped}" : "")} | ") +
                Invariant($"audio {Interlocked.Read(ref backlog._audioMs) / 3_600_000d:0.####} h | {rate:0.##} files/s | ETA {(eta is { } e ? $"{e.TotalSeconds:0} s" : "—")} | ") +
                Invariant($"429s absorbed {behavior.Statistics.RateLimitedAbsorbed}");
        }

        public IRenderable Render() => new Panel(new Text(Status())).Header($"tollgate: {backlog._verb}").Border(BoxBorder.Rounded);

        /// <summary>A line per finished file when not on a terminal (the live table shows it otherwise).</summary>
        public void Line(FileReport report, bool interactive)
        {
            if (backlog._output.IsJson || interactive)
            {
                return;
            }
            var what = report.Status == "done"
                ? Invariant($"ok     {report.File}{(report.AudioMs is { } ms ? $" ({ms} ms)" : "")}")
                : $"failed {report.File}: {report.Error}{(report.Code is null ? "" : $" ({report.Code})")}";
            lock (backlog._lock)
            {
                backlog._output.Line(Invariant($"[{Volatile.Read(ref backlog._done) + Volatile.Read(ref backlog._failed)}/{pending}] {what} | {Status()}"));
            }
        }
    }
}
