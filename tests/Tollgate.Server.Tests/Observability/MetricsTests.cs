using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Tollgate.Infrastructure;

namespace Tollgate.Observability;

/// <summary>Tollgate's instruments, read with a <see cref="MeterListener"/> scoped to one server's meter factory.</summary>
public sealed class MetricsTests
{
    private const string Model = "velma-2-stt-batch";

    [Fact]
    public async Task AdmissionsRejectionsLeasesAndQuota_AreMeasured_WithTheirTags()
    {
        await using var server = await TollgateServer.StartAsync(new Dictionary<string, string?>
        {
            ["Tollgate:RateLimits:Rules:safe:Limit"] = "2",
        });
        var factory = server.Services.GetRequiredService<IMeterFactory>();
        var measurements = new ConcurrentQueue<(string Instrument, long Value, Dictionary<string, string?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == TollgateMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            measurements.Enqueue((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value?.ToString()))));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
            measurements.Enqueue((instrument.Name, 1, tags.ToArray().ToDictionary(t => t.Key, t => t.Value?.ToString()))));
        listener.Start();

        var key = await server.CreateKeyAsync(Model, concurrency: 2, hours: 1);
        using var client = server.CreateClient(key.Secret);
        using (var content = new MultipartFormDataContent { { new ByteArrayContent(TestAudio.SpeechLikeWav()), "upload_file", "a.wav" } })
        using (var ok = await client.PostAsync("api/" + Model, content))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using (var anonymous = await server.CreateClient().PostAsync("api/" + Model, new MultipartFormDataContent()))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }
        using var dubbing = server.CreateClient();
        dubbing.DefaultRequestHeaders.Add("Authorization", "Api-Key " + key.Secret);
        for (var i = 0; i < 3; i++)
        {
            (await dubbing.GetAsync("v1/me")).Dispose();
        }
        listener.RecordObservableInstruments();

        bool Has(string instrument, Func<Func<string, string?>, bool> tags) => measurements.Any(m => m.Instrument == instrument && tags(name => m.Tags.GetValueOrDefault(name)));
        Assert.True(Has("tollgate.admission.decisions", t => t("tollgate.surface") == "Models" && t("tollgate.model") == Model && t("tollgate.outcome") == "admitted"));
        Assert.True(Has("tollgate.admission.decisions", t => t("tollgate.outcome") == "rejected" && t("tollgate.code") == "missing_api_key"));
        Assert.True(Has("tollgate.admission.decisions", t => t("tollgate.surface") == "Dubbing" && t("tollgate.code") == "rate_limited"));
        Assert.True(Has("tollgate.rate_limit.decisions", t => t("tollgate.rule") == "safe" && t("tollgate.outcome") == "rejected"));
        Assert.True(Has("tollgate.admission.duration", t => t("tollgate.surface") == "Models"));
        Assert.True(Has("tollgate.request.duration", t => t("tollgate.model") == Model));
        Assert.Equal(3_000, measurements.Where(m => m.Instrument == "tollgate.quota.reserved").Sum(m => m.Value));
        Assert.Equal(3_000, measurements.Where(m => m.Instrument == "tollgate.quota.committed" && m.Tags["tollgate.model"] == Model).Sum(m => m.Value));
        var leases = measurements.Where(m => m.Instrument == "tollgate.leases.active").Select(m => m.Value).ToList();
        Assert.Equal([1L, -1L], leases);
        // Keys never become tag values.
        Assert.DoesNotContain(measurements, m => m.Tags.Values.Any(v => v?.Contains("tgk_", StringComparison.Ordinal) == true));
    }
}
