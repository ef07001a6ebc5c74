using System;
using System.Collections.Generic;
using System.Numerics.Tensors;
using NetGen.Optimizers;
using NetGen.Weights;
using Xunit;

namespace NetGen.Runtime.Tests.Optimizers;

/// <summary>
/// The optimizers update the parameter vector block by block, in parts on several threads for long vectors: whatever the
/// length, the mask's segments against the blocks and the thread count, the results must be the bits of the update written
/// as whole-vector passes (the same operations in the same order per element), which this file writes out.
/// </summary>
public sealed class BlockedStepTests
{
    /// <summary>Around a block (1024), one and several blocks, and past the two-part threshold (2 × 131,072).</summary>
    public static TheoryData<int> Lengths => new() { 1, 7, 1023, 1024, 1025, 5000, 2 * 131_072 + 3, 3 * 131_072 + 1500 };

    /// <summary>A layout of tensors whose lengths cut across the blocks: decayed kernels, undecayed biases between them.</summary>
    private static WeightDecayMask Mask(int length)
    {
        var layout = new List<TensorSlot>();
        int at = 0, i = 0;
        while (at < length)
        {
            int weight = Math.Min(length - at, 700 + 1337 * (i % 5));
            layout.Add(new TensorSlot($"layer{i}.weight", [weight, 1], at));
            at += weight;
            int bias = Math.Min(length - at, 3 + i % 4);
            if (bias > 0)
            {
                layout.Add(new TensorSlot($"layer{i}.bias", [bias], at));
                at += bias;
            }

            i++;
        }

        return WeightDecayMask.MatricesAndKernels(layout);
    }

    internal static (float[] Theta, float[][] Gradients) Data(int length)
    {
        var random = new Random(length);
        var theta = new float[length];
        var gradients = new float[3][];
        for (int i = 0; i < length; i++)
        {
            theta[i] = (float)(random.NextDouble() * 2 - 1);
        }

        for (int t = 0; t < gradients.Length; t++)
        {
            gradients[t] = new float[length];
            for (int i = 0; i < length; i++)
            {
                gradients[t][i] = (float)(random.NextDouble() - 0.5) * (t + 1);
            }
        }

        return (theta, gradients);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Sgd_steps_are_the_bits_of_whole_vector_passes(int length)
    {
        (float[] theta0, float[][] gradients) = Data(length);
        foreach ((float momentum, bool nesterov, float decay, bool masked) in new[]
                 { (0f, false, 0f, false), (0.9f, false, 0f, false), (0.9f, true, 0.01f, false), (0.8f, false, 0.05f, true), (0f, false, 0.1f, true) })
        {
            WeightDecayMask? mask = masked ? Mask(length) : null;
            float[] expected = (float[])theta0.Clone();
            var buffer = new float[length];
            var scratch = new float[length];
            for (int t = 0; t < gradients.Length; t++)
            {
                // g = ∇ + wd·θ where decayed; b = μ·b + g (b = g first); g = g + μ·b (Nesterov) or b; θ = θ − lr·g
                ReadOnlySpan<float> g = gradients[t];
                if (decay != 0f)
                {
                    AddL2(mask, expected, gradients[t], decay, scratch);
                    g = scratch;
                }

                if (momentum != 0f)
                {
                    if (t == 0)
                    {
                        g.CopyTo(buffer);
                    }
                    else
                    {
                        TensorPrimitives.MultiplyAdd(buffer, momentum, g, buffer);
                    }

                    if (nesterov)
                    {
                        TensorPrimitives.MultiplyAdd(buffer, momentum, g, scratch);
                        g = scratch;
                    }
                    else
                    {
                        g = buffer;
                    }
                }

                TensorPrimitives.MultiplyAdd(g, -0.05f, expected, expected);
            }

            foreach (int threads in new[] { 1, 2, 3 })
            {
                var sgd = new Sgd(0.05f, momentum, nesterov, decay) { WeightDecayMask = mask, DegreeOfParallelism = threads };
                float[] theta = (float[])theta0.Clone();
                foreach (float[] gradient in gradients)
                {
                    sgd.Step(theta, gradient);
                }

                Assert.True(expected.AsSpan().SequenceEqual(theta), $"SGD μ {momentum}, Nesterov {nesterov}, wd {decay}, masked {masked}, {threads} thread(s): not the whole-vector bits");
                if (momentum != 0f)
                {
                    Assert.True(buffer.AsSpan().SequenceEqual(sgd.MomentumBuffer), $"SGD μ {momentum}, {threads} thread(s): momentum buffer");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Adam_steps_are_the_bits_of_whole_vector_passes(int length)
    {
        (float[] theta0, float[][] gradients) = Data(length);
        foreach ((float decay, bool decoupled, bool masked) in new[] { (0f, false, false), (0.1f, false, true), (0.01f, true, false), (0.05f, true, true) })
        {
            const float lr = 0.01f, beta1 = 0.9f, beta2 = 0.99f, epsilon = 1e-6f;
            WeightDecayMask? mask = masked ? Mask(length) : null;
            float[] expected = (float[])theta0.Clone();
            var m = new float[length];
            var v = new float[length];
            var scratch = new float[length];
            for (int t = 1; t <= gradients.Length; t++)
            {
                ReadOnlySpan<float> g = gradients[t - 1];
                if (decay != 0f)
                {
                    if (decoupled)
                    {
                        Scale(mask, expected, 1f - lr * decay);
                    }
                    else
                    {
                        AddL2(mask, expected, gradients[t - 1], decay, scratch);
                        g = scratch;
                    }
                }

                TensorPrimitives.Multiply(m, beta1, m);
                TensorPrimitives.MultiplyAdd(g, 1f - beta1, m, m);
                TensorPrimitives.Multiply(g, g, scratch);
                TensorPrimitives.Multiply(v, beta2, v);
                TensorPrimitives.MultiplyAdd(scratch, 1f - beta2, v, v);
                float stepSize = (float)(lr / (1.0 - Math.Pow(beta1, t)));
                float correction = (float)Math.Sqrt(1.0 - Math.Pow(beta2, t));
                TensorPrimitives.Sqrt(v, scratch);
                TensorPrimitives.Divide(scratch, correction, scratch);
                TensorPrimitives.Add(scratch, epsilon, scratch);
                TensorPrimitives.Divide(m, scratch, scratch);
                TensorPrimitives.MultiplyAdd(scratch, -stepSize, expected, expected);
            }

            foreach (int threads in new[] { 1, 2, 3 })
            {
                var adam = new Adam(lr, beta1, beta2, epsilon, decay, decoupled) { WeightDecayMask = mask, DegreeOfParallelism = threads };
                float[] theta = (float[])theta0.Clone();
                foreach (float[] gradient in gradients)
                {
                    adam.Step(theta, gradient);
                }

                string what = $"Adam wd {decay}, decoupled {decoupled}, masked {masked}, {threads} thread(s)";
                Assert.True(expected.AsSpan().SequenceEqual(theta), $"{what}: not the whole-vector bits");
                Assert.True(m.AsSpan().SequenceEqual(adam.FirstMoment), $"{what}: first moment");
                Assert.True(v.AsSpan().SequenceEqual(adam.SecondMoment), $"{what}: second moment");
            }
        }
    }

    [Fact]
    public void DegreeOfParallelism_must_be_at_least_one()
    {
        Assert.Equal(Environment.ProcessorCount, new Sgd(0.1f).DegreeOfParallelism);
        Assert.Equal(Environment.ProcessorCount, new Adam().DegreeOfParallelism);
        Assert.Equal("value", Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd(0.1f) { DegreeOfParallelism = 0 }).ParamName);
        Assert.Equal("value", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam { DegreeOfParallelism = -1 }).ParamName);
    }

    /// <summary>g = ∇ + wd·θ on the decayed parameters, g = ∇ on the others: whole-vector passes over the mask's tensors.</summary>
    private static void AddL2(WeightDecayMask? mask, float[] theta, float[] gradient, float decay, float[] destination)
    {
        if (mask is null)
        {
            TensorPrimitives.MultiplyAdd(theta, decay, gradient, destination);
            return;
        }

        gradient.AsSpan().CopyTo(destination);
        foreach (TensorSlot slot in mask.DecayedTensors)
        {
            TensorPrimitives.MultiplyAdd(theta.AsSpan(slot.Offset, slot.Length), decay, gradient.AsSpan(slot.Offset, slot.Length), destination.AsSpan(slot.Offset, slot.Length));
        }
    }

    /// <summary>θ = θ·factor on the decayed parameters.</summary>
    private static void Scale(WeightDecayMask? mask, float[] theta, float factor)
    {
        if (mask is null)
        {
            TensorPrimitives.Multiply(theta, factor, theta);
            return;
        }

        foreach (TensorSlot slot in mask.DecayedTensors)
        {
            Span<float> range = theta.AsSpan(slot.Offset, slot.Length);
            TensorPrimitives.Multiply(range, factor, range);
        }
    }
}

/// <summary>Runs alone: the worker threads' allocation count is process-wide, and other tests' workers would add to it.</summary>
[CollectionDefinition(nameof(OptimizerAllocationTests), DisableParallelization = true)]
public sealed class OptimizerAllocationCollection { }

[Collection(nameof(OptimizerAllocationTests))]
public sealed class OptimizerAllocationTests
{
    [Fact]
    public void Long_vectors_step_on_several_threads_without_allocating()
    {
        // 3 × 131,072 parameters, two parts: the worker thread is started by the first step; the steps after it allocate
        // nothing on any thread (the workers report what they allocate while running parts).
        const int length = 3 * 131_072;
        (float[] theta, float[][] gradients) = BlockedStepTests.Data(length);
        var adam = new Adam { DegreeOfParallelism = 2 };
        var sgd = new Sgd(0.01f, momentum: 0.9f) { DegreeOfParallelism = 2 };
        adam.Step(theta, gradients[0]);
        sgd.Step(theta, gradients[0]);

        long caller = GC.GetAllocatedBytesForCurrentThread(), workers = NetGen.Training.WorkerThreads.AllocatedBytes;
        for (int i = 0; i < 10; i++)
        {
            adam.Step(theta, gradients[i % 3]);
            sgd.Step(theta, gradients[i % 3]);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - caller);
        Assert.Equal(0, NetGen.Training.WorkerThreads.AllocatedBytes - workers);
    }
}
