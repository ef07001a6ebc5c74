using System;
using System.Linq;
using System.Runtime.Intrinsics;
using NetGen.Kernels;
using Xunit;

namespace NetGen.Runtime.Tests.Kernels;

/// <summary>
/// Every vector type the generated dispatch can choose computes the same products as a plain double loop, over shapes
/// with full vectors, partial tails and single columns. Widths this machine does not accelerate are skipped inside the
/// test (an emulated width is never dispatched to), and which ones ran is written to the output.
/// </summary>
public sealed class GemmTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Slack = 32;

    /// <summary>
    /// Row counts that exercise, for each register file, the tiles of the blocked products (32 registers: 8 rows × 2
    /// vectors, then 4, 2, 1; 16 registers: 6 × 2, then 4, 2, 1 — 6, 7 = 6 + 1, 13 = 6 + 6 + 1, 15 = 6 + 6 + 2 + 1, 16 =
    /// 6 + 6 + 4; × 1 vector for a row's last columns, 8 rows then 4, 2, 1, with either) and the tiles of <c>Dot</c> (32
    /// registers: 4, 2 and 1 rows; 16: 2 and 1) and its leftover columns (B with fewer rows than A: 13 × 6; with more:
    /// 15 × 40, and 7 × 17, whose last block of B is one row); reductions longer than a block (128) and not a multiple of it.
    /// </summary>
    public static TheoryData<int, int, int> Products => new()
    {
        { 1, 1, 1 }, { 2, 5, 7 }, { 3, 16, 16 }, { 5, 25, 33 }, { 6, 150, 100 }, { 7, 300, 17 }, { 16, 129, 48 }, { 13, 40, 6 }, { 15, 130, 40 },
    };

    [Theory]
    [MemberData(nameof(Products))]
    public void Blocked_products_match_a_double_loop_at_every_accelerated_width(int m, int k, int n)
    {
        int ran = 0;
        ran += CheckProducts<Float1>(m, k, n, "Float1");
        ran += CheckProducts<Float128Unfused>(m, k, n, "Float128Unfused", Vector128.IsHardwareAccelerated);
        ran += CheckProducts<Float128>(m, k, n, "Float128", Vector128.IsHardwareAccelerated && VectorWidth.HasFusedMultiplyAdd);
        ran += CheckProducts<Float256>(m, k, n, "Float256", Vector256.IsHardwareAccelerated && VectorWidth.HasFusedMultiplyAdd);
        ran += CheckProducts<Float512>(m, k, n, "Float512", Vector512.IsHardwareAccelerated);
        Assert.True(ran >= 1);
    }

    /// <summary>
    /// The products at one width: the public kernels, and the tiles for each register file (16 and 32 vector registers,
    /// whichever this machine has), each against the double loop, and all three the same bits: a tile's shape does not
    /// change any element's sum.
    /// </summary>
    private int CheckProducts<TVector>(int m, int k, int n, string name, bool accelerated = true)
        where TVector : struct, IFloatVector<TVector>
    {
        if (!accelerated)
        {
            output.WriteLine($"{name}: not accelerated here, not dispatched to, skipped");
            return 0;
        }

        float[][] public_ = CheckProducts<TVector, PublicKernels>(m, k, n, name);
        float[][] sixteen = CheckProducts<TVector, SixteenRegisters>(m, k, n, name + " (16 registers)");
        float[][] thirtyTwo = CheckProducts<TVector, ThirtyTwoRegisters>(m, k, n, name + " (32 registers)");
        for (int r = 0; r < public_.Length; r++)
        {
            AssertSameBits(public_[r], sixteen[r], $"{name} {m}×{k}×{n} result {r}: 16 registers");
            AssertSameBits(public_[r], thirtyTwo[r], $"{name} {m}×{k}×{n} result {r}: 32 registers");
        }

        output.WriteLine($"{name}: {m}×{k}×{n} checked, public kernels and both register files");
        return 1;
    }

    /// <summary>Stands for the public kernels, which pick the register file themselves, in <see cref="CheckProducts{TVector, TRegisters}"/>.</summary>
    private readonly struct PublicKernels : IRegisterFile
    {
    }

    /// <summary>Every product at one width with <typeparamref name="TRegisters"/>'s tiles, against the double loop; returns the results.</summary>
    private static float[][] CheckProducts<TVector, TRegisters>(int m, int k, int n, string name)
        where TVector : struct, IFloatVector<TVector>
        where TRegisters : struct, IRegisterFile
    {
        bool public_ = typeof(TRegisters) == typeof(PublicKernels);
        float zero = 0f;
        var results = new System.Collections.Generic.List<float[]>();

        var random = new Random(m * 1_000_000 + k * 1000 + n);
        float[] a = TestValues.Uniform(random, m * k);
        float[] b = TestValues.Uniform(random, k * n + Slack);
        Array.Fill(b, float.NaN, k * n, Slack); // a kernel that used a float past B's last row in a result would give NaN
        float[] bt = TestValues.Uniform(random, n * k);
        float[] expected = new float[m * n];
        float[] expectedDot = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0, dot = 0;
                for (int p = 0; p < k; p++)
                {
                    sum += (double)a[i * k + p] * b[p * n + j];
                    dot += (double)a[i * k + p] * bt[j * k + p];
                }

                expected[i * n + j] = 1f + (float)sum;
                expectedDot[i * n + j] = 1f + (float)dot;
            }
        }

        foreach (bool paddedTail in new[] { false, true })
        {
            float[] c = new float[m * n + Slack];
            Array.Fill(c, 1f, 0, m * n);
            if (public_)
            {
                Gemm.MultiplyAdd<TVector>(ref a[0], k, 1, ref b[0], n, ref c[0], n, m, k, n, paddedTail);
            }
            else
            {
                Gemm.Product<TVector, TRegisters>(ref a[0], k, 1, ref b[0], n, ref c[0], n, m, k, n, paddedTail, accumulate: true, ref zero, 0);
            }

            AssertClose(expected, c, k, $"{name} MultiplyAdd {m}×{k}×{n}, paddedTail {paddedTail}");
            Assert.All(c[(m * n)..], v => Assert.Equal(0f, v));
            results.Add((float[])c.Clone());

            // Multiply writes over C: what C held (NaN here) does not matter.
            Array.Fill(c, float.NaN, 0, m * n);
            if (public_)
            {
                Gemm.Multiply<TVector>(ref a[0], k, 1, ref b[0], n, ref c[0], n, m, k, n, paddedTail);
            }
            else
            {
                Gemm.Product<TVector, TRegisters>(ref a[0], k, 1, ref b[0], n, ref c[0], n, m, k, n, paddedTail, accumulate: false, ref zero, 0);
            }

            AssertClose(expected.Select(e => e - 1f).ToArray(), c, k, $"{name} Multiply {m}×{k}×{n}, paddedTail {paddedTail}");
            Assert.All(c[(m * n)..], v => Assert.Equal(0f, v));
            results.Add((float[])c.Clone());

            // MultiplyBias starts row i at bias(i), here 1 + i.
            float[] bias = Enumerable.Range(0, m).Select(i => 1f + i).ToArray();
            Array.Fill(c, float.NaN, 0, m * n);
            if (public_)
            {
                Gemm.MultiplyBias<TVector>(ref a[0], k, 1, ref b[0], n, ref c[0], n, ref bias[0], m, k, n, paddedTail);
            }
            else
            {
                Gemm.Product<TVector, TRegisters>(ref a[0], k, 1, ref b[0], n, ref c[0], n, m, k, n, paddedTail, accumulate: false, ref bias[0], 1);
            }

            AssertClose(expected.Select((e, at) => e + at / n).ToArray(), c, k, $"{name} MultiplyBias {m}×{k}×{n}, paddedTail {paddedTail}");
            Assert.All(c[(m * n)..], v => Assert.Equal(0f, v));
            results.Add((float[])c.Clone());
        }

        float[] d = new float[m * n];
        Array.Fill(d, 1f);
        if (public_)
        {
            Gemm.Dot<TVector>(ref a[0], k, ref bt[0], k, k, ref d[0], n, 1, m, n);
        }
        else
        {
            Gemm.Dot<TVector, TRegisters>(ref a[0], k, ref bt[0], k, k, ref d[0], n, 1, m, n);
        }

        AssertClose(expectedDot, d, k, $"{name} Dot {m}×{k}×{n}");
        results.Add(d);
        return [.. results];
    }

    private static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{what}: element {i} is {actual[i]}, the public kernel's {expected[i]}");
        }
    }

    [Fact]
    public void Unfused_multiply_add_rounds_twice_and_fused_once()
    {
        // 1 + 2^-23 squared is 1 + 2^-22 + 2^-46: fused keeps the 2^-46 that a float product drops.
        float a = 1f + MathF.Pow(2, -23);
        float c = -(1f + MathF.Pow(2, -22));
        float[] buffer = new float[4];
        Float128Unfused.Store(Float128Unfused.MultiplyAdd(Float128Unfused.Broadcast(a), Float128Unfused.Broadcast(a), Float128Unfused.Broadcast(c)), ref buffer[0]);
        Assert.Equal(0f, buffer[0]);
        if (Vector128.IsHardwareAccelerated && VectorWidth.HasFusedMultiplyAdd)
        {
            Float128.Store(Float128.MultiplyAdd(Float128.Broadcast(a), Float128.Broadcast(a), Float128.Broadcast(c)), ref buffer[0]);
            Assert.Equal(MathF.Pow(2, -46), buffer[0]);
        }
    }


    private static void AssertClose(float[] expected, float[] actual, int k, string what)
    {
        float tolerance = 1e-6f * (k + 1) * 4;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= tolerance, $"{what}: element {i} is {actual[i]}, expected {expected[i]} (±{tolerance})");
        }
    }
}
