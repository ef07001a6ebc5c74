using System;

namespace NetGen.Benchmarks;

/// <summary>
/// The "0 bytes per call" check, direct: every NetGen operation the benchmarks time is warmed up, then called many times
/// between two readings of <see cref="GC.GetTotalAllocatedBytes(bool)"/> (precise, all threads). BenchmarkDotNet's
/// memory diagnoser divides whatever the process allocates during an iteration (the in-process toolchain, tiered JIT,
/// the runtime's own threads) by the few operations of a long iteration; this counts over many calls, three times, and
/// reports the smallest count, so only allocation that every call repeats shows up.
/// </summary>
public static class AllocationCheck
{
    public static bool Run()
    {
        Console.WriteLine("Allocation check (NetGen, bytes allocated on all threads after warm-up, 3 rounds; per call from the least):");
        bool ok = true;
        foreach (NetworkKind kind in new[] { NetworkKind.LeNet5, NetworkKind.WideNet, NetworkKind.ResNet, NetworkKind.ResNetBN })
        {
            bool wide = kind != NetworkKind.LeNet5; // WideNet, ResNet, ResNetBN: 14, 9 and 24 million multiply-adds per sample, fewer calls

            (float[] inputs, int[] labels) = Workload.CreateData(Workload.InferenceBatch);
            var probabilities = new float[Workload.InferenceBatch * Workload.Classes];
            ISampleNetwork single = Workload.CreateNetGen(kind);
            single.InitializeParameters(Workload.Seed);
            ok &= Measure(kind, "forward, batch 1", 1, wide ? 200 : 5_000, () => single.Forward(inputs.AsSpan(0, Workload.InputLength), probabilities.AsSpan(0, Workload.Classes)));
            foreach (int threads in new[] { 1, 2 })
            {
                var driver = new BatchDriver(() => Workload.CreateNetGen(kind), threads);
                ok &= Measure(kind, "inference, batch 256", threads, wide ? 4 : 100, () => driver.ForwardBatch(inputs, probabilities, Workload.InferenceBatch));
                ok &= Measure(kind, "training step, batch 64", threads, wide ? 10 : 200, () => driver.TrainStep(inputs.AsSpan(0, Workload.TrainingBatch * Workload.InputLength), labels.AsSpan(0, Workload.TrainingBatch)));
            }
        }

        Console.WriteLine(ok ? "allocation check: 0 bytes per call everywhere" : "allocation check: FAILED");
        return ok;
    }

    private static bool Measure(NetworkKind kind, string what, int threads, int calls, Action call)
    {
        for (int i = 0; i < 5; i++)
        {
            call();
        }

        var rounds = new long[3];
        for (int round = 0; round < rounds.Length; round++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < calls; i++)
            {
                call();
            }

            rounds[round] = GC.GetTotalAllocatedBytes(precise: true) - before;
        }

        long least = Math.Min(rounds[0], Math.Min(rounds[1], rounds[2]));
        Console.WriteLine($"  {kind,-8} {what,-24} {threads} thread(s): {string.Join(" / ", rounds)} B in 3 rounds of {calls} calls = {(double)least / calls:0.##} B/call");
        return least == 0;
    }
}
