using System.CommandLine;
using Tollgate.Cli.Output;
using Tollgate.Client;
using Tollgate.Client.Behavior;
using Tollgate.Client.Dubbing;

namespace Tollgate.Cli.Commands;

/// <summary>
/// <c>tollgate dub &lt;folders or files…&gt; --target-language es [--out dubs/]</c>: each file through the Dubbing API's
/// whole workflow (create → preprocess → generate → wait → download, polling each dub no faster than every 3 s), one
/// <c>&lt;file&gt;.&lt;language&gt;.wav</c> per input. Run again, it skips files already dubbed; too few credits stop it.
/// </summary>
internal static class DubCommand
{
    public static Command Create(CliContext context)
    {
        var key = new Option<string?>("--key") { Description = $"The API key [env: {ModelCallOptions.ApiKeyVariable}]", HelpName = "key" };
        var inputs = new Argument<string[]>("inputs") { Description = "Audio files, or folders of them", Arity = ArgumentArity.OneOrMore };
        var target = new Option<string>("--target-language") { Description = "The language to dub into (ISO 639-1, e.g. es)", HelpName = "code", Required = true };
        var source = new Option<string?>("--source-language") { Description = "The inputs' language [default: detected]", HelpName = "code" };
        var voice = new Option<string?>("--voice") { Description = "A voice id to speak with (see GET /v1/voices) [default: the server's choice]", HelpName = "voiceId" };
        var output = new Option<string>("--out") { Description = "Where the dubbed files go", HelpName = "folder", DefaultValueFactory = _ => "tollgate-dubs" };
        var concurrency = new Option<int>("--concurrency") { Description = "Dubs in progress at once", HelpName = "n", DefaultValueFactory = _ => 8 };
        var command = new Command("dub", "Dub a backlog of audio files through the Dubbing API's whole workflow; resumes where it stopped. " + ExitCodes.Help)
        {
            inputs, target, source, voice, output, concurrency, key,
        };
        command.SetAction((parse, ct) => context.RunWithKeyAsync(parse, key, async (baseAddress, apiKey, token) =>
        {
            var language = parse.GetRequiredValue(target).Trim();
            if (parse.GetValue(concurrency) < 1)
            {
                return context.UsageError("--concurrency must be at least 1.");
            }
            var (items, error) = Backlog.Plan(parse.GetRequiredValue(inputs), parse.GetRequiredValue(output),
                f => Path.GetFileNameWithoutExtension(f.Name) + "." + language + ".wav");
            if (error is not null)
            {
                return context.UsageError(error);
            }
            var options = new TollgateClientOptions { BaseAddress = baseAddress, ApiKey = apiKey };
            var behavior = new TollgateClientBehavior(options);
            using var client = context.CreateDubbingClient(options, behavior);
            var request = new NewDub(language, parse.GetValue(source), parse.GetValue(voice));
            var printer = new CliOutput(context.Stdout, parse.GetValue(context.Options.Json));
            return await new Backlog(context, printer, "dubbed").RunAsync(items, parse.GetValue(concurrency), behavior, async (item, partial, ct) =>
            {
                await using var audio = item.Input.OpenRead();
                Dub dub;
                await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
                {
                    dub = await client.DubAsync(audio, item.Input.Name, request with { Name = item.Input.Name }, file, cancellationToken: ct);
                    await file.FlushAsync(ct);
                    file.Flush(flushToDisk: true);
                }
                return new BacklogOutcome(dub.InputDuration is { } s ? (long)Math.Round(s * 1000) : null, dub.DubId);
            }, token);
        }, ct));
        return command;
    }
}
