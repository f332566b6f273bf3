namespace Tollgate.Server.WebConsole;

/// <summary>One bar of a usage chart: the audio hours charged on one day (UTC).</summary>
public sealed record ChartDay(DateOnly Date, double Hours);
