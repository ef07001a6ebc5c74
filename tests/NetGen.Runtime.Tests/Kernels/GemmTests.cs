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
    /// Row counts that exercise the 8-, 4-, 2- and 1-row tiles (× 2 vectors, and × 1 for a row's last columns) of the
    /// blocked products and the 4-, 2- and 1-row tiles of <c>Dot</c> and its leftover columns (B with fewer rows than A:
    /// 13 × 6; with more: 15 × 40, and 7 × 17, whose last block of B is one row); reductions longer than a block (128) and
    /// not a multiple of it.
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

    private int CheckProducts<TVector>(int m, int k, int n, string name, bool accelerated = true)
        where TVector : struct, IFloatVector<TVector>
    {
        if (!accelerated)
        {
            output.WriteLine($"{name}: not accelerated here, not dispatched to, skipped");
            return 0;
        }

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
            Gemm.MultiplyAdd<TVector>(ref a[0], k, 1, ref b[0], n, ref c[0], n, m, k, n, paddedTail);
            AssertClose(expected, c, k, $"{name} MultiplyAdd {m}×{k}×{n}, paddedTail {paddedTail}");
            Assert.All(c[(m * n)..], v => Assert.Equal(0f, v));

            // Multiply writes over C: what C held (NaN here) does not matter.
            Array.Fill(c, float.NaN, 0, m * n);
            Gemm.Multiply<TVector>(ref a[0], k, 1, ref b[0], n, ref c[0], n, m, k, n, paddedTail);
            AssertClose(expected.Select(e => e - 1f).ToArray(), c, k, $"{name} Multiply {m}×{k}×{n}, paddedTail {paddedTail}");
            Assert.All(c[(m * n)..], v => Assert.Equal(0f, v));

            // MultiplyBias starts row i at bias(i), here 1 + i.
            float[] bias = Enumerable.Range(0, m).Select(i => 1f + i).ToArray();
            Array.Fill(c, float.NaN, 0, m * n);
            Gemm.MultiplyBias<TVector>(ref a[0], k, 1, ref b[0], n, ref c[0], n, ref bias[0], m, k, n, paddedTail);
            AssertClose(expected.Select((e, at) => e + at / n).ToArray(), c, k, $"{name} MultiplyBias {m}×{k}×{n}, paddedTail {paddedTail}");
            Assert.All(c[(m * n)..], v => Assert.Equal(0f, v));
        }

        float[] d = new float[m * n];
        Array.Fill(d, 1f);
        Gemm.Dot<TVector>(ref a[0], k, ref bt[0], k, k, ref d[0], n, 1, m, n);
        AssertClose(expectedDot, d, k, $"{name} Dot {m}×{k}×{n}");
        output.WriteLine($"{name}: {m}×{k}×{n} checked");
        return 1;
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
