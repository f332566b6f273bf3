namespace Tollgate.RateLimiting;

/// <summary>Which requests a rule counts (DESIGN 3, step 2).</summary>
public enum RuleScope
{
    /// <summary>Every request, whatever its method.</summary>
    All,

    /// <summary>Safe operations: GET, HEAD.</summary>
    Safe,

    /// <summary>Unsafe operations: POST, PATCH, PUT, DELETE.</summary>
    Unsafe,
}

/// <summary>The operation class of one request: safe = GET/HEAD, unsafe = everything that may change state.</summary>
public enum OperationClass
{
    Safe,
    Unsafe,
}

/// <summary>
/// One request-rate rule: at most <paramref name="Limit"/> requests per user in each fixed, clock-aligned window of
/// length <paramref name="Window"/> (the window containing Unix time <c>t</c> is <c>[⌊t/W⌋·W, ⌊t/W⌋·W + W)</c>).
/// Counters are identified by (user, rule name, window length), so surfaces carrying the same rule share its pool.
/// </summary>
/// <param name="Name">Unique (ignoring case) name; letters, digits, '-', '_', '.'. Shown in 429 bodies.</param>
/// <param name="Limit">Requests admitted per window, at least 1.</param>
/// <param name="Window">Whole seconds, from 1 second to 1 day.</param>
/// <param name="AppliesTo">Which operation classes the rule counts.</param>
public sealed record RateRule(string Name, long Limit, TimeSpan Window, RuleScope AppliesTo)
{
    /// <summary>Whether a request of class <paramref name="operation"/> is counted by this rule.</summary>
    public bool AppliesToOperation(OperationClass operation) => AppliesTo switch
    {
        RuleScope.All => true,
        RuleScope.Safe => operation == OperationClass.Safe,
        RuleScope.Unsafe => operation == OperationClass.Unsafe,
        _ => false,
    };

    internal long WindowTicks => Window.Ticks;

    /// <summary>The window as configuration writes it (<c>1s</c>, <c>1m</c>, <c>1h</c>...), for messages.</summary>
    public string WindowText => RateLimitValidator.FormatWindow(Window);
}
