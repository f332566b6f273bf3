namespace Tollgate.Platform;

/// <summary>
/// What every <see cref="IPlatformStore"/> must do (on SQLite and on PostgreSQL): inherit and implement
/// <see cref="CreateStore"/>. Each test makes jobs of its own, so a store may be shared.
/// </summary>
public abstract class PlatformStoreContractTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private IPlatformStore? _store;

    protected IPlatformStore Store => _store ??= CreateStore();

    protected abstract IPlatformStore CreateStore();

    private static PlatformJob AJob(PlatformJobStatus status = PlatformJobStatus.Pending, PlatformSubmission submission = PlatformSubmission.File,
        string org = "org_a", DateTimeOffset? expires = null) => new()
    {
        Id = Guid.NewGuid().ToString(),
        OrgId = org,
        UserId = "usr_1",
        KeyId = "key_1",
        Submission = submission,
        Flags = PlatformFlags.EmotionAnnotation | PlatformFlags.DeepfakeDetection,
        Status = status,
        CreatedAt = Now,
        UpdatedAt = Now,
        ExpiresAt = expires ?? Now.AddHours(24),
        TokenHash = submission == PlatformSubmission.Realtime ? "hash-" + Guid.NewGuid().ToString("N") : null,
    };

    private static PlatformFile AFile(string jobId, string name = "a.wav") => new()
    {
        JobId = jobId,
        Filename = name,
        FileExtension = "wav",
        BlobKey = $"platform/{jobId}/{Guid.NewGuid():N}",
        DurationMs = 3000,
        Status = PlatformFileStatus.Pending,
        UpdatedAt = Now,
    };

    [Fact]
    public async Task PageByOrg_ListsAnOrganizationsJobsNewestFirst_APageAtATime_WithoutFiles()
    {
        var org = "org_" + Guid.NewGuid().ToString("N")[..12];
        var jobs = new List<PlatformJob>();
        for (var i = 0; i < 5; i++)
        {
            // Two share a millisecond: id breaks the tie.
            var job = AJob(org: org) with { CreatedAt = Now.AddSeconds(i == 4 ? 3 : i), Status = i == 0 ? PlatformJobStatus.Completed : PlatformJobStatus.Pending };
            await Store.CreateJobAsync(job, AFile(job.Id));
            jobs.Add(job);
        }
        await Store.CreateJobAsync(AJob(org: "org_" + Guid.NewGuid().ToString("N")[..12]), null);
        var expected = jobs.OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id, StringComparer.Ordinal).Select(j => j.Id).ToList();

        var first = await Store.PageByOrgAsync(org, 2, null);
        Assert.Equal(expected[..2], first.Select(j => j.Id));
        Assert.All(first, j => Assert.Empty(j.Files));
        var second = await Store.PageByOrgAsync(org, 2, first[^1].Id);
        Assert.Equal(expected[2..4], second.Select(j => j.Id));
        var last = await Store.PageByOrgAsync(org, 2, second[^1].Id);
        Assert.Equal(expected[4..], last.Select(j => j.Id));
        Assert.Equal(PlatformJobStatus.Completed, last[0].Status);
        Assert.Equal((jobs[0].OrgId, jobs[0].UserId, jobs[0].KeyId, jobs[0].Flags, jobs[0].CreatedAt, jobs[0].ExpiresAt),
            (last[0].OrgId, last[0].UserId, last[0].KeyId, last[0].Flags, last[0].CreatedAt, last[0].ExpiresAt));
        Assert.Empty(await Store.PageByOrgAsync(org, 2, last[^1].Id));
        Assert.Empty(await Store.PageByOrgAsync(org, 2, "no-such-job"));
        Assert.Equal(expected, (await Store.PageByOrgAsync(org, 100, null)).Select(j => j.Id));
    }

    [Fact]
    public async Task ACreatedJob_ReadsBackAsStored_WithItsFirstFileAtIndex0()
    {
        var job = AJob();
        var file = AFile(job.Id) with { Index = 7 };
        await Store.CreateJobAsync(job, file);

        var stored = await Store.GetJobAsync(job.Id);
        Assert.NotNull(stored);
        Assert.Equal(job with { Files = stored.Files }, stored);
        Assert.Equal(file with { Index = 0 }, Assert.Single(stored.Files));
        Assert.Null(await Store.GetJobAsync(Guid.NewGuid().ToString()));

        var realtime = AJob(submission: PlatformSubmission.Realtime);
        await Store.CreateJobAsync(realtime, null);
        Assert.Empty((await Store.GetJobAsync(realtime.Id))!.Files);
    }

    [Fact]
    public async Task AddFile_AppendsInOrder_AndFinalizesInTheSameStep()
    {
        var job = AJob();
        await Store.CreateJobAsync(job, AFile(job.Id, "1.wav"));
        var second = await Store.AddFileAsync(job.Id, job.OrgId, AFile(job.Id, "2.wav"), finalize: false, maxFiles: 10, Now.AddMinutes(1));
        Assert.Equal(AddFileStatus.Added, second.Status);
        Assert.Equal(PlatformJobStatus.Pending, second.Job!.Status);
        var third = await Store.AddFileAsync(job.Id, job.OrgId, AFile(job.Id, "3.wav"), finalize: true, maxFiles: 10, Now.AddMinutes(2));
        Assert.Equal(AddFileStatus.Added, third.Status);
        Assert.Equal(PlatformJobStatus.Processing, third.Job!.Status);
        Assert.Equal(Now.AddMinutes(2), third.Job.FinalizedAt);
        Assert.Null(third.Job.ExpiresAt);
        Assert.Equal(new[] { (0, "1.wav"), (1, "2.wav"), (2, "3.wav") }, third.Job.Files.Select(f => (f.Index, f.Filename!)));
        var stored = await Store.GetJobAsync(job.Id);
        Assert.Equal(third.Job with { Files = [] }, stored! with { Files = [] });
        Assert.Equal(third.Job.Files, stored.Files);
    }

    [Fact]
    public async Task AddFile_ChangesNothing_ForAnUnknownOtherOrganizationsClosedExpiredRealtimeOrFullJob()
    {
        var job = AJob();
        await Store.CreateJobAsync(job, AFile(job.Id));
        Assert.Equal(AddFileStatus.NotFound, (await Store.AddFileAsync(Guid.NewGuid().ToString(), job.OrgId, AFile("x"), true, 10, Now)).Status);
        var foreign = await Store.AddFileAsync(job.Id, "org_b", AFile(job.Id), true, 10, Now);
        Assert.Equal((AddFileStatus.NotFound, null), (foreign.Status, foreign.Job));
        Assert.Equal(AddFileStatus.NotOpen, (await Store.AddFileAsync(job.Id, job.OrgId, AFile(job.Id), true, 1, Now)).Status);
        Assert.Equal(AddFileStatus.NotOpen, (await Store.AddFileAsync(job.Id, job.OrgId, AFile(job.Id), true, 10, job.ExpiresAt!.Value)).Status);
        var realtime = AJob(submission: PlatformSubmission.Realtime);
        await Store.CreateJobAsync(realtime, null);
        Assert.Equal(AddFileStatus.NotOpen, (await Store.AddFileAsync(realtime.Id, job.OrgId, AFile(realtime.Id), true, 10, Now)).Status);
        Assert.Equal(job.Id, Assert.Single((await Store.GetJobAsync(job.Id))!.Files).JobId);

        Assert.Equal(AddFileStatus.Added, (await Store.AddFileAsync(job.Id, job.OrgId, AFile(job.Id), true, 10, Now)).Status);
        var closed = await Store.AddFileAsync(job.Id, job.OrgId, AFile(job.Id), false, 10, Now);
        Assert.Equal(AddFileStatus.NotOpen, closed.Status);
        Assert.Equal(2, closed.Job!.Files.Count);
    }

    [Fact]
    public async Task ConcurrentFinalizingUploads_AddExactlyOneFile()
    {
        var job = AJob();
        await Store.CreateJobAsync(job, AFile(job.Id));
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            Task.Run(() => Store.AddFileAsync(job.Id, job.OrgId, AFile(job.Id), finalize: true, maxFiles: 100, Now))));
        Assert.Single(outcomes, o => o.Status == AddFileStatus.Added);
        Assert.Equal(2, (await Store.GetJobAsync(job.Id))!.Files.Count);
    }

    [Fact]
    public async Task AFinalizingUpload_AndAConcurrentExpiry_NeverBothWin()
    {
        for (var round = 0; round < 20; round++)
        {
            var job = AJob();
            await Store.CreateJobAsync(job, AFile(job.Id));
            var expired = job with { Status = PlatformJobStatus.Failed, ErrorCode = "job_expired", CompletedAt = Now, UpdatedAt = Now };
            var upload = Task.Run(() => Store.AddFileAsync(job.Id, job.OrgId, AFile(job.Id), finalize: true, maxFiles: 10, Now));
            var expiry = Task.Run(() => Store.UpdateJobAsync(expired, PlatformJobStatus.Pending));
            var (added, failed) = ((await upload).Status == AddFileStatus.Added, await expiry);

            Assert.True(added != failed, $"round {round}: added {added}, expired {failed}");
            var stored = (await Store.GetJobAsync(job.Id))!;
            Assert.Equal(added ? (PlatformJobStatus.Processing, 2) : (PlatformJobStatus.Failed, 1), (stored.Status, stored.Files.Count));
        }
    }

    [Fact]
    public async Task Updates_AreCompareAndSet_OnTheStatusRead()
    {
        var job = AJob(PlatformJobStatus.Processing);
        await Store.CreateJobAsync(job, AFile(job.Id));
        var file = (await Store.GetJobAsync(job.Id))!.Files[0];
        var done = file with { Status = PlatformFileStatus.Completed, ApiCallsCharged = 3, ResultJson = "{\"text\":\"\"}", UpdatedAt = Now.AddSeconds(5) };
        Assert.True(await Store.UpdateFileAsync(done, PlatformFileStatus.Pending));
        Assert.False(await Store.UpdateFileAsync(done with { ApiCallsCharged = 9 }, PlatformFileStatus.Pending));

        var finished = job with { Status = PlatformJobStatus.Completed, CompletedAt = Now.AddSeconds(6), UpdatedAt = Now.AddSeconds(6) };
        Assert.True(await Store.UpdateJobAsync(finished, PlatformJobStatus.Processing));
        Assert.False(await Store.UpdateJobAsync(finished with { Status = PlatformJobStatus.Failed, ErrorCode = "x" }, PlatformJobStatus.Processing));

        var stored = await Store.GetJobAsync(job.Id);
        Assert.Equal(finished with { Files = stored!.Files }, stored);
        Assert.Equal(done, Assert.Single(stored.Files));
    }

    [Fact]
    public async Task ARealtimeToken_IsGoodForOneUse_BeforeItExpires()
    {
        var job = AJob(submission: PlatformSubmission.Realtime, expires: Now.AddSeconds(60));
        await Store.CreateJobAsync(job, null);
        Assert.False(await Store.UseTokenAsync(job.Id, "wrong", Now));
        Assert.False(await Store.UseTokenAsync(job.Id, job.TokenHash!, Now.AddSeconds(60)));
        Assert.True(await Store.UseTokenAsync(job.Id, job.TokenHash!, Now.AddSeconds(59)));
        Assert.False(await Store.UseTokenAsync(job.Id, job.TokenHash!, Now.AddSeconds(59)));
        Assert.Equal(Now.AddSeconds(59), (await Store.GetJobAsync(job.Id))!.TokenUsedAt);

        var file = AJob();
        await Store.CreateJobAsync(file, AFile(file.Id));
        Assert.False(await Store.UseTokenAsync(file.Id, "", Now));
    }

    [Fact]
    public async Task List_FindsJobsByStatus_AndThoseExpiredByATime()
    {
        var org = "org_" + Guid.NewGuid().ToString("N")[..8];
        var soon = AJob(org: org, expires: Now.AddMinutes(1));
        var later = AJob(org: org, expires: Now.AddHours(1));
        var running = AJob(PlatformJobStatus.Processing, org: org);
        foreach (var job in new[] { soon, later, running })
        {
            await Store.CreateJobAsync(job, AFile(job.Id));
        }
        var expired = await Store.ListAsync(PlatformJobStatus.Pending, Now.AddMinutes(1), 1000);
        Assert.Contains(expired, j => j.Id == soon.Id);
        Assert.DoesNotContain(expired, j => j.Id == later.Id);
        Assert.Single(expired.Single(j => j.Id == soon.Id).Files);
        var processing = await Store.ListAsync(PlatformJobStatus.Processing, null, 1000);
        Assert.Contains(processing, j => j.Id == running.Id);
        Assert.DoesNotContain(processing, j => j.Id == soon.Id);
    }
}
