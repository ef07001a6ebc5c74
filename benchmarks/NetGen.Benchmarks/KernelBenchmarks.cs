using System;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using NetGen.Kernels;

namespace NetGen.Benchmarks;

/// <summary>
/// The runtime's kernels alone at the shapes the generated WideNet and LeNet-5 give them, each called with literal
/// shapes (as generated code does, so the JIT sees constants) through the same dispatch on <see cref="VectorWidth.Kernel"/>:
/// where a register tile's shape matters (the blocked product, the dot tiles, the direct convolution), on AVX-512 and
/// with <c>DOTNET_EnableAVX512F=0</c> (Vector256 with 16 registers). The case name says the layer and pass; the FLOPs
/// of one call are <see cref="FlopsOf"/> (2 per multiply-add), for GFLOP/s by hand: not part of the full run's report.
/// </summary>
[BenchmarkCategory("Kernels")]
public class KernelBenchmarks
{
    private const int Slack = 64;
    private float[] _a = null!, _b = null!, _c = null!, _bias = null!, _copy = null!;

    /// <summary>Multiply-adds · 2 of one call of each case.</summary>
    public static double FlopsOf(string name) => 2.0 * name switch
    {
        nameof(WideConv2Product) => 64L * 800 * 196,
        nameof(WideConv2Dcolumns) => 800L * 64 * 196,
        nameof(WideConv2DweightT) => 800L * 196 * 64,
        nameof(WideDense1Chunk) => 1024L * 3136 * 32,
        nameof(WideDense1Dx) => 32L * 1024 * 3136,
        nameof(WideDense2Dot) => 10L * 1024 * 32,
        nameof(WideConv1Dweight) => 32L * 784 * 25,
        nameof(LeNetDense1Dot) => 120L * 400 * 16,
        nameof(LeNetConv2Dcolumns) => 150L * 16 * 100,
        nameof(WideConv2Direct) => 64L * 800 * 196,
        nameof(WideConv1Direct) => 32L * 25 * 784,
        nameof(LeNetConv2Direct) => 16L * 150 * 100,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(17);
        float[] Fill(int length)
        {
            float[] values = new float[length + Slack];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = (float)(random.NextDouble() * 2 - 1);
            }

            return values;
        }

        // Large enough for every case: dense1's weight (1024 × 3136) and its dx (32 × 3136).
        _a = Fill(1024 * 3136);
        _b = Fill(1024 * 3136);
        _c = Fill(1024 * 3136);
        _bias = Fill(1024);
        _copy = Fill(32 * 5 * 18 * 14);
    }

    /// <summary>WideNet conv2 forward unfolded: y = b + W · columns, [64 × 800] · [800 × 196].</summary>
    [Benchmark]
    public float WideConv2Product()
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: WideConv2Product<Float512>(); break;
            case VectorKernel.Float256: WideConv2Product<Float256>(); break;
            default: WideConv2Product<Float128>(); break;
        }

        return _c[0];
    }

    /// <summary>WideNet conv2 backward: dcolumns = Wᵀ · dy, [800 × 64] · [64 × 196].</summary>
    [Benchmark]
    public float WideConv2Dcolumns()
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: WideConv2Dcolumns<Float512>(); break;
            case VectorKernel.Float256: WideConv2Dcolumns<Float256>(); break;
            default: WideConv2Dcolumns<Float128>(); break;
        }

        return _c[0];
    }

    /// <summary>WideNet conv2 backward: dWᵀ += columns · dyᵀ, [800 × 196] · [196 × 64].</summary>
    [Benchmark]
    public float WideConv2DweightT()
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: WideConv2DweightT<Float512>(); break;
            case VectorKernel.Float256: WideConv2DweightT<Float256>(); break;
            default: WideConv2DweightT<Float128>(); break;
        }

        return _c[0];
    }

    /// <summary>WideNet dense1 forward, a chunk of 32 samples in the lanes: yᵀ = b + W · xᵀ, [1024 × 3136] · [3136 × 32] (W streams from memory).</summary>
    [Benchmark]
    public float WideDense1Chunk()
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: WideDense1Chunk<Float512>(); break;
            case VectorKernel.Float256: WideDense1Chunk<Float256>(); break;
            default: WideDense1Chunk<Float128>(); break;
        }

        return _c[0];
    }

    /// <summary>WideNet dense1 backward: dx = dy · W, [32 × 1024] · [1024 × 3136].</summary>
    [Benchmark]
    public float WideDense1Dx()
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: WideDense1Dx<Float512>(); break;
            case VectorKernel.Float256: WideDense1Dx<Float256>(); break;
            default: WideDense1Dx<Float128>(); break;
        }

        return _c[0];
    }

    /// <summary>WideNet dense2 forward, a chunk of 32: y += W · x as dot products, 10 outputs × 32 samples × 1024.</summary>
    [Benchmark]
    public float WideDense2Dot()
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: WideDense2Dot<Float512>(); break;
            case VectorKernel.Float256: WideDense2Dot<Float256>(); break;
            default: WideDense2Dot<Float128>(); break;
        }

        return _c[0];
    }

    /// <summary>WideNet conv1 backward: dW += dy · columnsᵀ as dot products, 32 filters × 25 taps × 784 pixels.</summary>
    [Benchmark]
    public float WideConv1Dweight()
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: WideConv1Dweight<Float512>(); break;
            case VectorKernel.Float256: WideConv1Dweight<Float256>(); break;
            default: WideConv1Dweight<Float128>(); break;
        }

        return _c[0];
    }

    /// <summary>LeNet-5 dense1 forward, a chunk of 16: y += W · x as dot products, 120 outputs × 16 samples × 400.</summary>
    [Benchmark]
    public float LeNetDense1Dot()
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: LeNetDense1Dot<Float512>(); break;
            case VectorKernel.Float256: LeNetDense1Dot<Float256>(); break;
            default: LeNetDense1Dot<Float128>(); break;
        }

        return _c[0];
    }

    /// <summary>LeNet-5 conv2 backward: dcolumns = Wᵀ · dy, [150 × 16] · [16 × 100].</summary>
    [Benchmark]
    public float LeNetConv2Dcolumns()
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: LeNetConv2Dcolumns<Float512>(); break;
            case VectorKernel.Float256: LeNetConv2Dcolumns<Float256>(); break;
            default: LeNetConv2Dcolumns<Float128>(); break;
        }

        return _c[0];
    }

    /// <summary>WideNet conv2 forward, direct (compacted: 14-pixel rows), one sample: 64 filters, 32 channels, 5 × 5, 14 × 14.</summary>
    [Benchmark]
    public float WideConv2Direct()
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: WideConv2Direct<Float512>(); break;
            case VectorKernel.Float256: WideConv2Direct<Float256>(); break;
            default: WideConv2Direct<Float128>(); break;
        }

        return _c[0];
    }

    /// <summary>WideNet conv1 forward, direct (compacted), one sample: 32 filters, 1 channel, 5 × 5, 28 × 28.</summary>
    [Benchmark]
    public float WideConv1Direct()
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: WideConv1Direct<Float512>(); break;
            case VectorKernel.Float256: WideConv1Direct<Float256>(); break;
            default: WideConv1Direct<Float128>(); break;
        }

        return _c[0];
    }

    /// <summary>LeNet-5 conv2 forward, direct (compacted), one sample: 16 filters, 6 channels, 5 × 5, 10 × 10.</summary>
    [Benchmark]
    public float LeNetConv2Direct()
    {
        switch (VectorWidth.Kernel)
        {
            case VectorKernel.Float512: LeNetConv2Direct<Float512>(); break;
            case VectorKernel.Float256: LeNetConv2Direct<Float256>(); break;
            default: LeNetConv2Direct<Float128>(); break;
        }

        return _c[0];
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WideConv2Product<TVector>()
        where TVector : struct, IFloatVector<TVector> =>
        Gemm.MultiplyBias<TVector>(ref _a[0], 800, 1, ref _b[0], 196, ref _c[0], 196, ref _bias[0], m: 64, k: 800, n: 196, paddedTail: true);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WideConv2Dcolumns<TVector>()
        where TVector : struct, IFloatVector<TVector> =>
        Gemm.Multiply<TVector>(ref _a[0], 1, 800, ref _b[0], 196, ref _c[0], 196, m: 800, k: 64, n: 196, paddedTail: true);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WideConv2DweightT<TVector>()
        where TVector : struct, IFloatVector<TVector> =>
        Gemm.MultiplyAdd<TVector>(ref _a[0], 196, 1, ref _b[0], 64, ref _c[0], 64, m: 800, k: 196, n: 64, paddedTail: true);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WideDense1Chunk<TVector>()
        where TVector : struct, IFloatVector<TVector> =>
        Gemm.MultiplyBias<TVector>(ref _a[0], 3136, 1, ref _b[0], 32, ref _c[0], 32, ref _bias[0], m: 1024, k: 3136, n: 32, paddedTail: true);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WideDense1Dx<TVector>()
        where TVector : struct, IFloatVector<TVector> =>
        Gemm.Multiply<TVector>(ref _a[0], 1024, 1, ref _b[0], 3136, ref _c[0], 3136, m: 32, k: 1024, n: 3136, paddedTail: false);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WideDense2Dot<TVector>()
        where TVector : struct, IFloatVector<TVector> =>
        Gemm.Dot<TVector>(ref _a[0], 1024, ref _b[0], 1024, 1024, ref _c[0], 1, 10, m: 10, n: 32);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WideConv1Dweight<TVector>()
        where TVector : struct, IFloatVector<TVector> =>
        Gemm.Dot<TVector>(ref _a[0], 784, ref _b[0], 784, 784, ref _c[0], 25, 1, m: 32, n: 25);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void LeNetDense1Dot<TVector>()
        where TVector : struct, IFloatVector<TVector> =>
        Gemm.Dot<TVector>(ref _a[0], 400, ref _b[0], 400, 400, ref _c[0], 1, 120, m: 120, n: 16);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void LeNetConv2Dcolumns<TVector>()
        where TVector : struct, IFloatVector<TVector> =>
        Gemm.Multiply<TVector>(ref _a[0], 1, 150, ref _b[0], 100, ref _c[0], 100, m: 150, k: 16, n: 100, paddedTail: true);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WideConv2Direct<TVector>()
        where TVector : struct, IFloatVector<TVector> =>
        Convolution.ForwardCompacted<TVector>(ref _a[0], ref _bias[0], ref _b[0], ref _copy[0], ref _c[0], filters: 64, channels: 32, kernelHeight: 5, kernelWidth: 5,
            inputWidth: 18, inputPlane: 324, outputHeight: 14, outputWidth: 14);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WideConv1Direct<TVector>()
        where TVector : struct, IFloatVector<TVector> =>
        Convolution.ForwardCompacted<TVector>(ref _a[0], ref _bias[0], ref _b[0], ref _copy[0], ref _c[0], filters: 32, channels: 1, kernelHeight: 5, kernelWidth: 5,
            inputWidth: 32, inputPlane: 1024, outputHeight: 28, outputWidth: 28);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void LeNetConv2Direct<TVector>()
        where TVector : struct, IFloatVector<TVector> =>
        Convolution.ForwardCompacted<TVector>(ref _a[0], ref _bias[0], ref _b[0], ref _copy[0], ref _c[0], filters: 16, channels: 6, kernelHeight: 5, kernelWidth: 5,
            inputWidth: 14, inputPlane: 196, outputHeight: 10, outputWidth: 10);
}
