using System.Data.Common;
using Dapper;
using Tollgate.Dubbing;
using Tollgate.Limits;

namespace Tollgate.Storage.Relational.Dubbing;

/// <summary>
/// Dubs, voices (stock and custom) and the append-only dubbing credit ledger (tables <c>dubs</c>, <c>dubbing_voices</c>,
/// <c>dubbing_credits</c>). Status changes are compare-and-set; a charge or refund is written in the same transaction
/// as the status change it belongs to, and the credit check before a charge runs inside that transaction, serialized
/// with every other charge of the organization (<see cref="SqlDatabase.BeginSerializedAsync"/>), so two generates,
/// on one node or two, can never together spend more than the allowance.
/// </summary>
internal sealed class SqlDubbingStore : IDubbingStore
{
    private const string DubColumns =
        "id, org_id, user_id, name, source_language, target_language, voice_id, status, input_duration_ms, required_credits, api_credits_used, input_format, error_code, error_message, created_at, updated_at";

    private const string VoiceColumns =
        "id, org_id, owner_user_id, name, language, genre, style, description, status, sample_file, sample_duration_ms, sample_loudness_db, error_code, error_message, created_at";

    private const string UpdateDub = """
        UPDATE dubs SET status = @Status, input_duration_ms = @InputDurationMs, required_credits = @RequiredCredits,
            api_credits_used = @ApiCreditsUsed, input_format = @InputFormat, error_code = @ErrorCode,
            error_message = @ErrorMessage, updated_at = @UpdatedAt
        WHERE id = @Id AND status = @Expected
        """;

    private readonly SqlDatabase _db;

    public SqlDubbingStore(SqlDatabase db)
    {
        _db = db;
    }

    public async Task AddDubAsync(Dub dub, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            $"""
            INSERT INTO dubs({DubColumns}) VALUES (@Id, @OrgId, @UserId, @Name, @SourceLanguage, @TargetLanguage, @VoiceId, @Status,
                @InputDurationMs, @RequiredCredits, @ApiCreditsUsed, @InputFormat, @ErrorCode, @ErrorMessage, @CreatedAt, @UpdatedAt)
            """, DubParameters(dub, expected: null), cancellationToken: ct));
    }

    public async Task<Dub?> GetDubAsync(string dubId, string userId, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<DubRow>(new CommandDefinition(
            $"SELECT {DubColumns} FROM dubs WHERE id = @dubId AND user_id = @userId", new { dubId, userId }, cancellationToken: ct));
        return row?.ToDub(_db);
    }

    public async Task<Dub?> GetDubAsync(string dubId, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<DubRow>(new CommandDefinition(
            $"SELECT {DubColumns} FROM dubs WHERE id = @dubId", new { dubId }, cancellationToken: ct));
        return row?.ToDub(_db);
    }

    public async Task<bool> UpdateDubAsync(Dub dub, DubStatus expected, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        return await c.ExecuteAsync(new CommandDefinition(UpdateDub, DubParameters(dub, expected), cancellationToken: ct)) == 1;
    }

    public async Task<ChargeOutcome> ChargeAsync(Dub dub, DubStatus expected, CreditEntry charge, int allowance, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        await using var tx = await _db.BeginSerializedAsync(c, CreditScope(charge.OrgId), ct);
        var used = await UsedAsync(c, tx, charge.OrgId, charge.Period, ct);
        var left = DubbingCredits.Left(allowance, used);
        var status = await c.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT status FROM dubs WHERE id = @Id", new { dub.Id }, tx, cancellationToken: ct));
        if (status != DubLifecycle.Wire(expected))
        {
            return new ChargeOutcome(ChargeStatus.Conflict, left);
        }
        if (!DubbingCredits.CanAfford(charge.Credits, left))
        {
            return new ChargeOutcome(ChargeStatus.InsufficientCredits, left);
        }
        await c.ExecuteAsync(new CommandDefinition(UpdateDub, DubParameters(dub, expected), tx, cancellationToken: ct));
        var added = await AppendAsync(c, tx, charge, ct);
        await tx.CommitAsync(ct);
        return new ChargeOutcome(ChargeStatus.Charged, added ? left - charge.Credits : left);
    }

    public async Task<bool> UpdateDubWithRefundAsync(Dub dub, DubStatus expected, string refundEntryId, DateTimeOffset at, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        await using var tx = await _db.BeginSerializedAsync(c, CreditScope(dub.OrgId), ct);
        if (await c.ExecuteAsync(new CommandDefinition(UpdateDub, DubParameters(dub, expected), tx, cancellationToken: ct)) != 1)
        {
            return false;
        }
        // Whatever the dub was charged comes back in the month it was charged in; the entry id keeps it to once.
        await c.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO dubbing_credits(entry_id, org_id, dub_id, credits, period, at)
            SELECT @refundEntryId, org_id, dub_id, -SUM(credits), MIN(period), @At
            FROM dubbing_credits WHERE dub_id = @Id AND credits > 0
            GROUP BY org_id, dub_id
            HAVING SUM(credits) > 0
            ON CONFLICT(entry_id) DO NOTHING
            """, new { refundEntryId, dub.Id, At = _db.Time(at) }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return true;
    }

    public async Task<IReadOnlyList<Dub>> PageDubsByOrgAsync(string orgId, int limit, string? after, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var c = await _db.OpenConnectionAsync(ct);
        // As the Platform store's page: a range on (org_id, created_at, id); an unknown cursor compares with NULL, no rows.
        var rows = await c.QueryAsync<DubRow>(new CommandDefinition(
            after is null
                ? $"SELECT {DubColumns} FROM dubs WHERE org_id = @orgId ORDER BY created_at DESC, id DESC LIMIT @limit"
                : $"""
                  SELECT {DubColumns} FROM dubs WHERE org_id = @orgId
                      AND (created_at, id) < (SELECT created_at, id FROM dubs WHERE id = @after)
                  ORDER BY created_at DESC, id DESC LIMIT @limit
                  """,
            new { orgId, after, limit }, cancellationToken: ct));
        return [.. rows.Select(r => r.ToDub(_db))];
    }

    public async Task<IReadOnlyList<Dub>> PendingDubsAsync(CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<DubRow>(new CommandDefinition(
            $"SELECT {DubColumns} FROM dubs WHERE status IN ('preprocessing', 'queued', 'starting', 'processing', 'finalizing') ORDER BY updated_at, id",
            cancellationToken: ct));
        return [.. rows.Select(r => r.ToDub(_db))];
    }

    public async Task UpsertStockVoicesAsync(IEnumerable<Voice> voices, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        await using var tx = await _db.BeginSerializedAsync(c, "dubbing-stock-voices", ct);
        foreach (var voice in voices)
        {
            if (!voice.IsStock)
            {
                throw new ArgumentException($"Voice {voice.Id} has an owner: only stock voices are seeded.", nameof(voices));
            }
            await c.ExecuteAsync(new CommandDefinition(
                $"""
                INSERT INTO dubbing_voices({VoiceColumns}) VALUES (@Id, NULL, NULL, @Name, @Language, @Genre, @Style, @Description, 'ready',
                    NULL, NULL, NULL, NULL, NULL, @CreatedAt)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, language = excluded.language, genre = excluded.genre,
                    style = excluded.style, description = excluded.description
                WHERE dubbing_voices.owner_user_id IS NULL
                """, VoiceParameters(voice), tx, cancellationToken: ct));
        }
        await tx.CommitAsync(ct);
    }

    public async Task AddVoiceAsync(Voice voice, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        await c.ExecuteAsync(new CommandDefinition(
            $"""
            INSERT INTO dubbing_voices({VoiceColumns}) VALUES (@Id, @OrgId, @OwnerUserId, @Name, @Language, @Genre, @Style, @Description,
                @Status, @SampleFile, @SampleDurationMs, @SampleLoudnessDb, @ErrorCode, @ErrorMessage, @CreatedAt)
            """, VoiceParameters(voice), cancellationToken: ct));
    }

    public async Task<Voice?> GetVoiceAsync(string voiceId, string userId, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<VoiceRow>(new CommandDefinition(
            $"SELECT {VoiceColumns} FROM dubbing_voices WHERE id = @voiceId AND (owner_user_id IS NULL OR owner_user_id = @userId)",
            new { voiceId, userId }, cancellationToken: ct));
        return row?.ToVoice(_db);
    }

    public async Task<Voice?> GetVoiceAsync(string voiceId, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<VoiceRow>(new CommandDefinition(
            $"SELECT {VoiceColumns} FROM dubbing_voices WHERE id = @voiceId", new { voiceId }, cancellationToken: ct));
        return row?.ToVoice(_db);
    }

    public async Task<bool> UpdateVoiceAsync(Voice voice, VoiceStatus expected, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var parameters = VoiceParameters(voice);
        parameters.Add("Expected", DubLifecycle.Wire(expected));
        return await c.ExecuteAsync(new CommandDefinition(
            """
            UPDATE dubbing_voices SET status = @Status, sample_file = @SampleFile, sample_duration_ms = @SampleDurationMs,
                sample_loudness_db = @SampleLoudnessDb, error_code = @ErrorCode, error_message = @ErrorMessage
            WHERE id = @Id AND status = @Expected AND owner_user_id IS NOT NULL
            """, parameters, cancellationToken: ct)) == 1;
    }

    public async Task<IReadOnlyList<Voice>> ListVoicesAsync(string userId, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<VoiceRow>(new CommandDefinition(
            $"SELECT {VoiceColumns} FROM dubbing_voices WHERE owner_user_id IS NULL OR owner_user_id = @userId ORDER BY id",
            new { userId }, cancellationToken: ct));
        return [.. rows.Select(r => r.ToVoice(_db))];
    }

    public async Task<IReadOnlyList<Voice>> PendingVoicesAsync(CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<VoiceRow>(new CommandDefinition(
            $"SELECT {VoiceColumns} FROM dubbing_voices WHERE status = 'training' AND owner_user_id IS NOT NULL ORDER BY created_at, id",
            cancellationToken: ct));
        return [.. rows.Select(r => r.ToVoice(_db))];
    }

    public async Task<long> CreditsUsedAsync(string orgId, MonthPeriod period, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        return await UsedAsync(c, null, orgId, period, ct);
    }

    public async Task<IReadOnlyList<CreditEntry>> CreditEntriesAsync(string dubId, CancellationToken ct = default)
    {
        await using var c = await _db.OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<CreditRow>(new CommandDefinition(
            "SELECT entry_id, org_id, dub_id, credits, period, at FROM dubbing_credits WHERE dub_id = @dubId ORDER BY at, entry_id",
            new { dubId }, cancellationToken: ct));
        return [.. rows.Select(r => r.ToEntry(_db))];
    }

    /// <summary>What every change to one organization's credits serializes on.</summary>
    private static string CreditScope(string orgId) => "dubbing-credits:" + orgId;

    private static Task<long> UsedAsync(DbConnection c, DbTransaction? tx, string orgId, MonthPeriod period, CancellationToken ct) =>
        c.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COALESCE(SUM(credits), 0) FROM dubbing_credits WHERE org_id = @orgId AND period = @Period",
            new { orgId, Period = period.ToString() }, tx, cancellationToken: ct));

    private async Task<bool> AppendAsync(DbConnection c, DbTransaction tx, CreditEntry entry, CancellationToken ct) =>
        await c.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO dubbing_credits(entry_id, org_id, dub_id, credits, period, at) VALUES (@EntryId, @OrgId, @DubId, @Credits, @Period, @At)
            ON CONFLICT(entry_id) DO NOTHING
            """, new { entry.EntryId, entry.OrgId, entry.DubId, entry.Credits, Period = entry.Period.ToString(), At = _db.Time(entry.At) },
            tx, cancellationToken: ct)) == 1;

    private DynamicParameters DubParameters(Dub d, DubStatus? expected)
    {
        var p = new DynamicParameters();
        p.Add("Id", d.Id);
        p.Add("OrgId", d.OrgId);
        p.Add("UserId", d.UserId);
        p.Add("Name", d.Name);
        p.Add("SourceLanguage", d.SourceLanguage);
        p.Add("TargetLanguage", d.TargetLanguage);
        p.Add("VoiceId", d.VoiceId);
        p.Add("Status", DubLifecycle.Wire(d.Status));
        p.Add("InputDurationMs", d.InputDurationMs);
        p.Add("RequiredCredits", d.RequiredCredits);
        p.Add("ApiCreditsUsed", d.ApiCreditsUsed);
        p.Add("InputFormat", d.InputFormat);
        p.Add("ErrorCode", d.ErrorCode);
        p.Add("ErrorMessage", d.ErrorMessage);
        p.Add("CreatedAt", _db.Time(d.CreatedAt));
        p.Add("UpdatedAt", _db.Time(d.UpdatedAt));
        if (expected is { } status)
        {
            p.Add("Expected", DubLifecycle.Wire(status));
        }
        return p;
    }

    private DynamicParameters VoiceParameters(Voice v)
    {
        var p = new DynamicParameters();
        p.Add("Id", v.Id);
        p.Add("OrgId", v.OrgId);
        p.Add("OwnerUserId", v.OwnerUserId);
        p.Add("Name", v.Name);
        p.Add("Language", v.Language);
        p.Add("Genre", v.Genre);
        p.Add("Style", v.Style);
        p.Add("Description", v.Description);
        p.Add("Status", DubLifecycle.Wire(v.Status));
        p.Add("SampleFile", v.SampleFile);
        p.Add("SampleDurationMs", v.SampleDurationMs);
        p.Add("SampleLoudnessDb", v.SampleLoudnessDb);
        p.Add("ErrorCode", v.ErrorCode);
        p.Add("ErrorMessage", v.ErrorMessage);
        p.Add("CreatedAt", _db.Time(v.CreatedAt));
        return p;
    }

    private sealed class DubRow
    {
        public string Id { get; set; } = "";
        public string Org_Id { get; set; } = "";
        public string User_Id { get; set; } = "";
        public string Name { get; set; } = "";
        public string? Source_Language { get; set; }
        public string Target_Language { get; set; } = "";
        public string? Voice_Id { get; set; }
        public string Status { get; set; } = "";
        public long? Input_Duration_Ms { get; set; }
        public long? Required_Credits { get; set; }
        public long Api_Credits_Used { get; set; }
        public string? Input_Format { get; set; }
        public string? Error_Code { get; set; }
        public string? Error_Message { get; set; }
        public object Created_At { get; set; } = null!;
        public object Updated_At { get; set; } = null!;

        public Dub ToDub(SqlDatabase db) => new()
        {
            Id = Id,
            OrgId = Org_Id,
            UserId = User_Id,
            Name = Name,
            SourceLanguage = Source_Language,
            TargetLanguage = Target_Language,
            VoiceId = Voice_Id,
            Status = DubLifecycle.ParseDubStatus(Status),
            InputDurationMs = Input_Duration_Ms,
            RequiredCredits = (int?)Required_Credits,
            ApiCreditsUsed = (int)Api_Credits_Used,
            InputFormat = Input_Format,
            ErrorCode = Error_Code,
            ErrorMessage = Error_Message,
            CreatedAt = db.ReadTime(Created_At),
            UpdatedAt = db.ReadTime(Updated_At),
        };
    }

    private sealed class VoiceRow
    {
        public string Id { get; set; } = "";
        public string? Org_Id { get; set; }
        public string? Owner_User_Id { get; set; }
        public string Name { get; set; } = "";
        public string Language { get; set; } = "";
        public string? Genre { get; set; }
        public string? Style { get; set; }
        public string? Description { get; set; }
        public string Status { get; set; } = "";
        public string? Sample_File { get; set; }
        public long? Sample_Duration_Ms { get; set; }
        public double? Sample_Loudness_Db { get; set; }
        public string? Error_Code { get; set; }
        public string? Error_Message { get; set; }
        public object Created_At { get; set; } = null!;

        public Voice ToVoice(SqlDatabase db) => new()
        {
            Id = Id,
            OrgId = Org_Id,
            OwnerUserId = Owner_User_Id,
            Name = Name,
            Language = Language,
            Genre = Genre,
            Style = Style,
            Description = Description,
            Status = DubLifecycle.ParseVoiceStatus(Status),
            SampleFile = Sample_File,
            SampleDurationMs = Sample_Duration_Ms,
            SampleLoudnessDb = Sample_Loudness_Db,
            ErrorCode = Error_Code,
            ErrorMessage = Error_Message,
            CreatedAt = db.ReadTime(Created_At),
        };
    }

    private sealed class CreditRow
    {
        public string Entry_Id { get; set; } = "";
        public string Org_Id { get; set; } = "";
        public string Dub_Id { get; set; } = "";
        public long Credits { get; set; }
        public string Period { get; set; } = "";
        public object At { get; set; } = null!;

        public CreditEntry ToEntry(SqlDatabase db) =>
            new(Entry_Id, Org_Id, Dub_Id, (int)Credits, MonthPeriod.TryParse(Period, out var p) ? p : throw new FormatException($"Bad period '{Period}'."), db.ReadTime(At));
    }
}
