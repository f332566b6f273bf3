using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Tollgate.Dubbing;
using Tollgate.Identity;
using Tollgate.Limits;
using Tollgate.Server.Http;

namespace Tollgate.Server.Dubbing;

/// <summary>
/// <c>GET /v1/me</c>, the Dubbing API's hottest read: the user, the organization and the organization's credits this
/// month, all three from the store caches (exact for the caller's own writes, see <see cref="Caching.CachingDubbingStore"/>),
/// and the calling key's models with their limits, serialized once per key record (<see cref="KeyModelsJson"/>).
/// A cache hit costs no allocation but the answer's bytes: the caches hand out completed tasks, the services are
/// resolved once from the root provider (no per-request DI scope: all three are singletons), and the body is written
/// by <see cref="JsonAnswer"/>.
/// </summary>
internal sealed class AccountEndpoint(IServiceProvider services)
{
    private static readonly JsonTypeInfo<AccountDto> Type = KeyModelsJson.AccountType();

    private DubbingRequests? _dubbing;
    private IIdentityStore? _identity;
    private PeriodText? _period;

    public async Task GetAsync(HttpContext context)
    {
        var caller = DubbingApi.Caller(context);
        var ct = context.RequestAborted;
        var identity = _identity ??= services.GetRequiredService<IIdentityStore>();
        var dubbing = _dubbing ??= services.GetRequiredService<DubbingRequests>();
        var org = await identity.GetOrganizationAsync(caller.OrgId, ct);
        var user = await identity.GetUserAsync(caller.UserId, ct);
        var balance = await dubbing.BalanceAsync(caller.OrgId, ct);
        await JsonAnswer.WriteAsync(context.Response, new AccountDto(caller.UserId, user?.Name, caller.OrgId, org?.Name, caller.KeyId,
            balance.Allowance, balance.Used, balance.Left, PeriodName(balance.Period), balance.Period.End,
            KeyModels.GetValue(caller.Key, static key => Models(key))), Type);
    }

    /// <summary>
    /// Each key record's <c>models</c>, in name order: a key's entitlements never change, and the identity cache hands out
    /// one record per key until it is invalidated, so a record is a correct cache key and a dropped record drops its entry.
    /// </summary>
    private static readonly ConditionalWeakTable<ApiKeyRecord, KeyModelsJson> KeyModels = new();

    private static KeyModelsJson Models(ApiKeyRecord key) =>
        new(key.Models.OrderBy(m => m.Key, StringComparer.Ordinal)
            .ToDictionary(m => m.Key, m => new AccountModelDto(m.Value.Concurrency, m.Value.MonthlyAudioHours), StringComparer.Ordinal));

    /// <summary>The month's name, made once a month rather than once a request.</summary>
    private string PeriodName(MonthPeriod period)
    {
        var known = _period;
        if (known is null || known.Period != period)
        {
            _period = known = new PeriodText(period, period.ToString());
        }
        return known.Text;
    }

    private sealed record PeriodText(MonthPeriod Period, string Text);
}

/// <summary>
/// A key's <c>models</c> with their JSON made once: written into each answer as it is, where the serializer would
/// enumerate the dictionary and nest a frame per answer (about 0.3 KB of allocations on the hottest read). The answer's
/// bytes are the serializer's own (<see cref="Json"/> is <see cref="DubbingJson.Options"/>' serialization).
/// </summary>
internal sealed class KeyModelsJson(Dictionary<string, AccountModelDto> models) : System.Collections.ObjectModel.ReadOnlyDictionary<string, AccountModelDto>(models)
{
    public byte[] Json { get; } = JsonSerializer.SerializeToUtf8Bytes<IReadOnlyDictionary<string, AccountModelDto>>(models, DubbingJson.Options);

    /// <summary><see cref="AccountDto"/>'s serializer under <see cref="DubbingJson.Options"/>, its <c>models</c> written by <see cref="Converter"/>.</summary>
    public static JsonTypeInfo<AccountDto> AccountType()
    {
        var options = new JsonSerializerOptions(DubbingJson.Options)
        {
            TypeInfoResolver = (DubbingJson.Options.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()).WithAddedModifier(static type =>
            {
                if (type.Type == typeof(AccountDto))
                {
                    foreach (var property in type.Properties)
                    {
                        if (property.PropertyType == typeof(IReadOnlyDictionary<string, AccountModelDto>))
                        {
                            property.CustomConverter = new Converter();
                        }
                    }
                }
            }),
        };
        options.MakeReadOnly();
        return (JsonTypeInfo<AccountDto>)options.GetTypeInfo(typeof(AccountDto));
    }

    private sealed class Converter : JsonConverter<IReadOnlyDictionary<string, AccountModelDto>>
    {
        public override IReadOnlyDictionary<string, AccountModelDto> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            JsonSerializer.Deserialize<IReadOnlyDictionary<string, AccountModelDto>>(ref reader, DubbingJson.Options)!;

        public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, AccountModelDto> value, JsonSerializerOptions options)
        {
            if (value is KeyModelsJson known)
            {
                writer.WriteRawValue(known.Json, skipInputValidation: true);
            }
            else
            {
                JsonSerializer.Serialize(writer, value, DubbingJson.Options);
            }
        }
    }
}
