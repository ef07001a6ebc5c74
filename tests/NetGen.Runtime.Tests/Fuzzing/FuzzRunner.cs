using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Tasks;
using Xunit;
using Xunit.Abstractions;

namespace NetGen.Runtime.Tests.Fuzzing;

/// <summary>How a reader handled one mutated file.</summary>
internal enum FuzzOutcome
{
    /// <summary>Read successfully (and the result checked out).</summary>
    Accepted,

    /// <summary>Rejected with exactly an <see cref="System.IO.InvalidDataException"/> (and the rejection checked out).</summary>
    Rejected,
}

/// <summary>A fuzz case broke a rule: a valid file rejected, a wrong result accepted, a changed destination…</summary>
internal sealed class FuzzViolation(string message) : Exception(message);

/// <summary>
/// Runs seeded fuzz cases one after another, each on a worker thread with a timeout, and fails with the seed
/// and the mutations of every case that broke a rule. Case k of a run uses seed firstSeed + k.
/// </summary>
/// <remarks>
/// Environment overrides for local runs: <c>NETGEN_FUZZ_CASES</c> sets the number of cases per run (default
/// <see cref="DefaultCaseCount"/>); <c>NETGEN_FUZZ_SEED</c> replays that one seed only.
/// </remarks>
internal static class FuzzRunner
{
    public const int DefaultCaseCount = 400;

    public static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(5);

    private const int MaxReportedFailures = 10;
    private const int MaxTimeouts = 3;

    public static async Task RunAsync(string name, int firstSeed, Func<Mutator, FuzzOutcome> runCase, ITestOutputHelper output)
    {
        (int first, int count, bool replay) = Seeds(firstSeed);
        var failures = new List<string>();
        int failed = 0, accepted = 0, rejected = 0, timeouts = 0;
        var clock = Stopwatch.StartNew();
        for (int seed = first; seed < first + count && timeouts < MaxTimeouts; seed++)
        {
            var mutator = new Mutator(seed);
            Task<FuzzOutcome> task = Task.Run(() => runCase(mutator));
            string? failure = null;
            try
            {
                FuzzOutcome outcome = await task.WaitAsync(CaseTimeout);
                _ = outcome == FuzzOutcome.Accepted ? accepted++ : rejected++;
            }
            catch (TimeoutException) when (!task.IsCompleted)
            {
                timeouts++;
                failure = Invariant($"did not finish within {CaseTimeout.TotalSeconds} s (hang?)");
            }
            catch (FuzzViolation violation)
            {
                failure = violation.Message;
            }
            catch (Exception e)
            {
                failure = Invariant($"{e.GetType().FullName} escaped: {e.Message}{Environment.NewLine}{e.StackTrace}");
            }

            if (failure is not null)
            {
                failed++;
                if (failures.Count < MaxReportedFailures)
                {
                    failures.Add(Invariant($"seed {seed}: {failure}{Environment.NewLine}    mutations: {mutator.Description}"));
                }
            }
        }

        clock.Stop();
        output.WriteLine(Invariant(
            $"{name}: {accepted + rejected + failed} cases (seeds {first}..{first + count - 1}) in {clock.Elapsed.TotalMilliseconds:F0} ms: {accepted} accepted, {rejected} rejected, {failed} failed"));
        if (failed > 0)
        {
            Assert.Fail(Invariant($"{name}: {failed} of {accepted + rejected + failed} cases failed (first {failures.Count} below); replay one with NETGEN_FUZZ_SEED=<seed>.")
                + Environment.NewLine + string.Join(Environment.NewLine, failures));
        }

        if (!replay)
        {
            // A fuzzer whose mutations are always rejected (or never) would test little.
            Assert.True(accepted > 0, $"{name}: no mutated file was accepted; the mutations are too destructive.");
            Assert.True(rejected > 0, $"{name}: no mutated file was rejected; the mutations are too weak.");
        }
    }

    private static (int First, int Count, bool Replay) Seeds(int firstSeed)
    {
        string? replay = Environment.GetEnvironmentVariable("NETGEN_FUZZ_SEED");
        if (!string.IsNullOrEmpty(replay))
        {
            return (int.Parse(replay, CultureInfo.InvariantCulture), 1, true);
        }

        string? cases = Environment.GetEnvironmentVariable("NETGEN_FUZZ_CASES");
        int count = string.IsNullOrEmpty(cases) ? DefaultCaseCount : int.Parse(cases, CultureInfo.InvariantCulture);
        return (firstSeed, count, false);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
