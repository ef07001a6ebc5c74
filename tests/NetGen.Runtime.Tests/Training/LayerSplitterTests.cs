using System;
using System.Threading;
using NetGen.Training;
using Xunit;

namespace NetGen.Runtime.Tests.Training;

public class LayerSplitterTests
{
    /// <summary>Records which units ran in the current run; fails on a unit outside the layer's count.</summary>
    private sealed class Recorder : LayerSplitter
    {
        public readonly int[] Units = [1024, 7, 40];
        public readonly int[] Grains = [64, 4, 16];
        public readonly int[] Ran = new int[1024];
        public int OutOfRange;

        protected override void RunPart(int layer, int first, int count)
        {
            if (first < 0 || count < 1 || first + count > Units[layer])
            {
                Interlocked.Increment(ref OutOfRange);
                return;
            }

            for (int unit = first; unit < first + count; unit++)
            {
                Interlocked.Increment(ref Ran[unit]);
            }

            Thread.SpinWait(first * 20); // uneven parts, so that the threads interleave differently from run to run
        }
    }

    /// <summary>
    /// Back-to-back runs of different layers, as a forward pass's split layers are: each run computes each of its units
    /// exactly once and nothing else, however the hand-overs interleave with the workers finishing the previous run.
    /// </summary>
    [Fact]
    public void Every_run_runs_each_of_its_units_once_and_nothing_else()
    {
        var splitter = new Recorder { DegreeOfParallelism = 3 };
        for (int run = 0; run < 20_000; run++)
        {
            int layer = run % 3;
            Array.Clear(splitter.Ran);
            splitter.Run(layer, splitter.Units[layer], splitter.Grains[layer]);
            for (int unit = 0; unit < splitter.Ran.Length; unit++)
            {
                int expected = unit < splitter.Units[layer] ? 1 : 0;
                Assert.True(splitter.Ran[unit] == expected, $"run {run} (layer {layer}): unit {unit} ran {splitter.Ran[unit]} times");
            }
        }

        Assert.Equal(0, splitter.OutOfRange);
    }

    /// <summary>
    /// Runs of empty parts on 2 threads, two million back to back, as a loop over single images calls them: the
    /// caller always sees its run end. The caller clears its wake-up signal and then reads how many parts are done; were
    /// that read made before the clear took effect, a worker's wake-up in between would be erased and the caller would
    /// block for good (it did, after 4,000 to 1.7 million such runs on a 2-vCPU VM).
    /// </summary>
    [Fact]
    public void Back_to_back_runs_never_lose_the_wake_up_of_their_last_part()
    {
        var splitter = new Empty { DegreeOfParallelism = 2 };
        int done = 0;
        var loop = new Thread(() =>
        {
            for (int run = 0; run < 2_000_000; run++)
            {
                splitter.Run(0, units: 2, grain: 1);
                Volatile.Write(ref done, run + 1);
            }
        }) { IsBackground = true }; // if it blocks for good, it must not keep the test process alive
        loop.Start();
        Assert.True(loop.Join(TimeSpan.FromSeconds(60)), $"the caller blocked after {Volatile.Read(ref done)} runs");
        Assert.Equal(4_000_000, splitter.Parts);
    }

    private sealed class Empty : LayerSplitter
    {
        public int Parts;

        protected override void RunPart(int layer, int first, int count) => Interlocked.Increment(ref Parts);
    }

    [Fact]
    public void A_part_that_throws_fails_the_run_with_its_exception()
    {
        var splitter = new Throwing { DegreeOfParallelism = 2 };
        var error = Assert.Throws<InvalidOperationException>(() => splitter.Run(0, units: 8, grain: 1));
        Assert.Equal("unit 5", error.Message);
        splitter.Run(1, units: 8, grain: 1); // the splitter is still usable
    }

    /// <summary>threads, units, grain, units per part: one part per thread, each a multiple of the grain, none empty.</summary>
    [Theory]
    [InlineData(2, 1024, 64, 512)]  // WideNet's dense1: 2 parts of 512
    [InlineData(3, 1024, 64, 384)]  // 384 + 384 + 256
    [InlineData(2, 7, 4, 4)]        // 7 tile rows: 4 + 3
    [InlineData(8, 7, 4, 4)]        // more threads than grains: one grain per part
    [InlineData(4, 40, 16, 16)]     // 3 grains (16 + 16 + 8) for 4 threads
    [InlineData(2, 1, 16, 16)]      // one unit: one part
    public void Parts_are_one_run_of_grains_per_thread(int threads, int units, int grain, int expected)
    {
        var splitter = new Recorder { DegreeOfParallelism = threads };
        int size = splitter.PartUnits(units, grain); // what Run gives each part
        Assert.Equal(expected, size);
        int parts = (units + size - 1) / size;
        Assert.True(parts <= threads && (parts - 1) * size < units, $"{parts} parts of {size} for {units} units on {threads} threads");
        Assert.Throws<ArgumentOutOfRangeException>(() => splitter.Run(0, 0, grain));
        Assert.Throws<ArgumentOutOfRangeException>(() => splitter.Run(0, units, 0));
    }

    [Fact]
    public void DegreeOfParallelism_must_be_positive()
    {
        var splitter = new Recorder();
        Assert.Equal(Environment.ProcessorCount, splitter.DegreeOfParallelism);
        Assert.Throws<ArgumentOutOfRangeException>(() => splitter.DegreeOfParallelism = 0);
        splitter.DegreeOfParallelism = 1;
        Assert.False(splitter.IsParallel);
    }

    private sealed class Throwing : LayerSplitter
    {
        protected override void RunPart(int layer, int first, int count)
        {
            if (layer == 0 && first <= 5 && 5 < first + count)
            {
                throw new InvalidOperationException("unit 5");
            }
        }
    }
}
