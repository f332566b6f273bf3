using System.Text.Json.Serialization;
using Tollgate.Client.Admin;

namespace Tollgate.Client.Http;

/// <summary>Source-generated (reflection-free, trim-safe) JSON for every body the client sends or reads.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Organization))]
[JsonSerializable(typeof(List<Organization>))]
[JsonSerializable(typeof(User))]
[JsonSerializable(typeof(List<User>))]
[JsonSerializable(typeof(ApiKey))]
[JsonSerializable(typeof(List<ApiKey>))]
[JsonSerializable(typeof(CreatedApiKey))]
[JsonSerializable(typeof(UsageReport))]
[JsonSerializable(typeof(CreateNameRequest))]
[JsonSerializable(typeof(CreateKeyRequest))]
internal sealed partial class ClientJsonContext : JsonSerializerContext;
