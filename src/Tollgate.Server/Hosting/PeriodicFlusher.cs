namespace Tollgate.Server.Hosting;

/// <summary>
/// Writes what a node gathered in memory to its store every <paramref name="interval"/> and once more at shutdown,
/// never per request. <see cref="FlushAsync"/> handles its own failures (a flush that throws ends nothing).
/// </summary>
internal abstract class PeriodicFlusher(TimeSpan interval, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(CancellationToken.None);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }

    public abstract Task FlushAsync(CancellationToken ct);
}
