using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CsvHelper;
using Tollgate.Client.Admin;

namespace Tollgate.Cli.Commands;

/// <summary>
/// <c>tollgate usage export --org &lt;orgId&gt; --month YYYY-MM [--format csv|cloudevents] [--out file] [--page-size n]</c>: every ledger
/// row of an organization's month, fetched page by page, as CSV (RFC 4180, a header row) or as one CloudEvents JSON batch.
/// </summary>
internal static class UsageExportCommand
{
    /// <summary>The CSV columns, in order: one ledger row per record.</summary>
    internal static readonly string[] CsvHeader = ["request_id", "time", "org_id", "user_id", "key_id", "model", "milliseconds", "month"];

    public static Command Create(CliContext context)
    {
        var org = CommonOptions.Org();
        var month = UsageCommand.MonthOption();
        month.Required = true;
        month.Description = "The month, YYYY-MM (UTC): the rows charged to it, as the usage report counts them";
        var format = new Option<string>("--format")
        {
            Description = "csv (a header row, then one row per charge) or cloudevents (one CloudEvents 1.0 JSON batch, as OpenMeter ingests)",
            HelpName = "csv|cloudevents",
            DefaultValueFactory = _ => "csv",
        };
        format.AcceptOnlyFromAmong("csv", "cloudevents");
        var output = new Option<FileInfo?>("--out")
        {
            Description = "Write to this file (replaced only once the export is complete) [default: standard output]",
            HelpName = "file",
        };
        var pageSize = new Option<int>("--page-size")
        {
            Description = "Rows fetched per request, 1 to 1000",
            HelpName = "rows",
            DefaultValueFactory = _ => 1000,
        };
        pageSize.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 1000)
            {
                result.AddError("--page-size: expected a whole number from 1 to 1000.");
            }
        });
        var command = new Command("export", "Every ledger row of an organization's month, for billing: CSV or CloudEvents") { org, month, format, output, pageSize };
        command.SetAction(async (parse, ct) =>
        {
            var file = parse.GetValue(output);
            ExportTarget target;
            try
            {
                target = ExportTarget.Open(file, context.Stdout);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return context.UsageError($"--out: cannot write {file!.FullName}: {ex.Message}");
            }
            await using (target)
            {
                var rows = 0L;
                var exit = await context.RunAdminAsync(parse, async (client, _, token) =>
                {
                    var exportOptions = new UsageExportOptions { Month = parse.GetRequiredValue(month), PageSize = parse.GetValue(pageSize) };
                    var orgId = parse.GetRequiredValue(org);
                    rows = parse.GetRequiredValue(format) == "cloudevents"
                        ? await WriteCloudEventsAsync(client.ExportUsageCloudEventsAsync(orgId, exportOptions, token), target.Writer)
                        : await WriteCsvAsync(client.ExportUsageAsync(orgId, exportOptions, token), target.Writer);
                }, ct);
                if (exit != ExitCodes.Ok)
                {
                    return exit;
                }
                await target.CommitAsync();
                if (file is not null)
                {
                    context.Stdout.WriteLine($"Wrote {rows} rows to {file.FullName}.");
                }
                return ExitCodes.Ok;
            }
        });
        return command;
    }

    internal static async Task<long> WriteCsvAsync(IAsyncEnumerable<UsageEvent> events, TextWriter writer)
    {
        // CsvHelper's defaults are RFC 4180: CRLF after each record, a field quoted when it holds a comma, quote, CR or LF.
        await using var csv = CsvWriter.Create(writer, CsvWriterOptions.Default, leaveOpen: true);
        csv.WriteHeader(CsvHeader);
        var rows = 0L;
        await foreach (var e in events)
        {
            await csv.WriteRecordAsync(
            [
                e.RequestId,
                e.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                e.OrgId,
                e.UserId,
                e.KeyId,
                e.Model,
                e.Milliseconds.ToString(CultureInfo.InvariantCulture),
                e.Month,
            ]);
            rows++;
        }
        await csv.FlushAsync();
        return rows;
    }

    /// <summary>One JSON array (a CloudEvents batch, <c>application/cloudevents-batch+json</c>), one event per line, as the server sent them.</summary>
    internal static async Task<long> WriteCloudEventsAsync(IAsyncEnumerable<JsonElement> events, TextWriter writer)
    {
        var rows = 0L;
        await writer.WriteAsync('[');
        await foreach (var e in events)
        {
            await writer.WriteAsync(rows == 0 ? "\n" : ",\n");
            await writer.WriteAsync(e.GetRawText());
            rows++;
        }
        await writer.WriteAsync(rows == 0 ? "]\n" : "\n]\n");
        await writer.FlushAsync();
        return rows;
    }

    /// <summary>
    /// Standard output, or a file written beside its final name and moved there only when the export is complete, so
    /// a failed export never leaves a file that looks finished.
    /// </summary>
    private sealed class ExportTarget : IAsyncDisposable
    {
        private readonly string? _final;
        private readonly string? _partial;
        private bool _committed;

        private ExportTarget(TextWriter writer, string? final, string? partial)
        {
            Writer = writer;
            _final = final;
            _partial = partial;
        }

        public TextWriter Writer { get; }

        public static ExportTarget Open(FileInfo? file, TextWriter stdout)
        {
            if (file is null)
            {
                return new ExportTarget(stdout, null, null);
            }
            var partial = Path.Combine(file.DirectoryName ?? ".", $".{file.Name}.{Environment.ProcessId}.partial");
            var writer = new StreamWriter(partial, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            return new ExportTarget(writer, file.FullName, partial);
        }

        public async Task CommitAsync()
        {
            await Writer.FlushAsync();
            if (_partial is not null)
            {
                await Writer.DisposeAsync();
                File.Move(_partial, _final!, overwrite: true);
            }
            _committed = true;
        }

        public async ValueTask DisposeAsync()
        {
            if (_partial is null)
            {
                return;
            }
            await Writer.DisposeAsync();
            if (!_committed)
            {
                File.Delete(_partial);
            }
        }
    }
}
