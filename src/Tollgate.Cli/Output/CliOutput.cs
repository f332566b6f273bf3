using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Tollgate.Cli.Output;

/// <summary>Standard output of one command: Spectre.Console tables for people, or indented JSON with <c>--json</c>.</summary>
internal sealed class CliOutput
{
    /// <summary>Tables are laid out for this width when the output is not a terminal (a pipe, a file, a test).</summary>
    private const int RedirectedWidth = 200;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    private readonly TextWriter _writer;

    public CliOutput(TextWriter writer, bool json)
    {
        _writer = writer;
        IsJson = json;
        var terminal = ReferenceEquals(writer, System.Console.Out) && !System.Console.IsOutputRedirected;
        IsTerminal = terminal;
        Ansi = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        if (!terminal)
        {
            Ansi.Profile.Width = RedirectedWidth;
        }
    }

    /// <summary>True with <c>--json</c>: commands print <see cref="Json{T}"/> and nothing else.</summary>
    public bool IsJson { get; }

    public IAnsiConsole Ansi { get; }

    /// <summary>Whether the output is a terminal (a live progress display is drawn there; elsewhere, plain lines).</summary>
    public bool IsTerminal { get; }

    public void Json<T>(T value) => _writer.WriteLine(JsonSerializer.Serialize(value, JsonOptions));

    public void Write(IRenderable renderable) => Ansi.Write(renderable);

    /// <summary>A line of plain text: never interpreted as markup.</summary>
    public void Line(string text = "") => Ansi.WriteLine(text);

    public void MarkupLine(string markup) => Ansi.MarkupLine(markup);
}
