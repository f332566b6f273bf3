using System.CommandLine;

namespace Tollgate.Cli.Commands;

/// <summary>What the Models API commands (<c>stream</c>, <c>batch</c>) share: the model and the caller's API key.</summary>
internal sealed class ModelCallOptions
{
    public const string ApiKeyVariable = "TOLLGATE_API_KEY";

    public Option<string> Model { get; } = new("--model")
    {
        Description = "The model, e.g. velma-2-stt-batch or velma-2-stt-streaming",
        HelpName = "model",
        Required = true,
    };

    // No default from the environment in help: the key would be printed.
    public Option<string?> Key { get; } = new("--key")
    {
        Description = $"The API key [env: {ApiKeyVariable}]",
        HelpName = "key",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Key);
    }
}
