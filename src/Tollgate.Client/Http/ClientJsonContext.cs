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
[JsonSerializable(typeof(Page<Organization>))]
[JsonSerializable(typeof(Page<User>))]
[JsonSerializable(typeof(Page<ApiKey>))]
[JsonSerializable(typeof(RotatedApiKey))]
[JsonSerializable(typeof(ChargedUsage))]
[JsonSerializable(typeof(AdminTokenList))]
[JsonSerializable(typeof(CreatedAdminToken))]
[JsonSerializable(typeof(RotateKeyRequest))]
[JsonSerializable(typeof(CreateAdminTokenRequest))]
[JsonSerializable(typeof(CreateNameRequest))]
[JsonSerializable(typeof(CreateKeyRequest))]
internal sealed partial class ClientJsonContext : JsonSerializerContext;
