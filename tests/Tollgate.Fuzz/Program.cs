using SharpFuzz;
using Tollgate.Fuzz;

// Usage:
//   Tollgate.Fuzz <target>                  under afl-fuzz: the fork server runs the target on every input AFL++ makes
//   Tollgate.Fuzz <target> <file or dir>... replays inputs (a corpus, AFL++'s crashes and hangs) and says which fail
// A failure is an exception escaping the target: a probe or parser that threw, or an invariant the target checks
// (a duration below zero, an allocation out of proportion to the input, a spool file left behind), and in replay an
// input that takes longer than TOLLGATE_FUZZ_SLOW_MS (default 2000) twice running (the first run may pay for the JIT).
if (args.Length == 0 || !Targets.All.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine($"usage: Tollgate.Fuzz <{string.Join('|', Targets.All.Keys)}> [input file or folder...]");
    return 2;
}
if (args.Length == 1)
{
    Fuzzer.Run(stream =>
    {
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        target(memory.ToArray());
    });
    return 0;
}
var slowMs = int.TryParse(Environment.GetEnvironmentVariable("TOLLGATE_FUZZ_SLOW_MS"), out var ms) ? ms : 2000;
var failures = 0;
var inputs = args.Skip(1).SelectMany<string, string>(path => Directory.Exists(path)
    ? Directory.EnumerateFiles(path).Where(f => !Path.GetFileName(f).StartsWith("README", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
    : [path]);
foreach (var input in inputs)
{
    try
    {
        var bytes = File.ReadAllBytes(input);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        target(bytes);
        if (watch.ElapsedMilliseconds > slowMs)
        {
            watch.Restart();
            target(bytes);
            if (watch.ElapsedMilliseconds > slowMs)
            {
                failures++;
                Console.Error.WriteLine($"SLOW {args[0]} {input}: {watch.ElapsedMilliseconds} ms for {bytes.Length:N0} bytes (limit {slowMs} ms)");
            }
        }
    }
    catch (Exception ex)
    {
        failures++;
        Console.Error.WriteLine($"FAIL {args[0]} {input}: {ex}");
    }
}
return failures == 0 ? 0 : 1;
