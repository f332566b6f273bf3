namespace Tollgate.Backends.Reference;

/// <summary>Why a batch request's form fields were refused: the contract's status and text, with our machine code.</summary>
/// <param name="Status">HTTP status (400, or 422 for a malformed velma-2 <c>config</c>).</param>
/// <param name="Code"><c>invalid_configuration</c> or <c>invalid_parameter</c>.</param>
/// <param name="Detail">The contract's text, e.g. "Invalid configuration.".</param>
internal sealed record BatchOptionsError(int Status, string Code, string Detail)
{
    public const string InvalidConfigurationCode = "invalid_configuration";
    public const string InvalidParameterCode = "invalid_parameter";
    public const string InvalidRequest = "Invalid request.";
    public const string InvalidConfiguration = "Invalid configuration.";
}
