using System.Runtime.CompilerServices;

namespace NetGen.Kernels;

public static partial class Convolution
{
    /// <summary>
    /// The fold (col2im) of a stride-2 convolution into zero-padded planes: padded(t, u, v) = Σ_m Σ_n
    /// columnsGradient((t·kh + m)·kw + n, i·outputWidth + j) over the taps with u = 2i + m, v = 2j + n, 0 ≤ i &lt;
    /// <paramref name="outputHeight"/>, 0 ≤ j &lt; <paramref name="outputWidth"/>, for every t &lt; <paramref name="channels"/>,
    /// u &lt; <paramref name="paddedHeight"/>, v &lt; <paramref name="paddedWidth"/> (planes of paddedHeight × paddedWidth); row r of
    /// dL/dcolumns starts at r · <paramref name="columnsRow"/> (outputHeight · outputWidth, or more where several samples' columns
    /// lie side by side).
    /// </summary>
    /// <remarks>
    /// Each row u of a plane is summed in registers, two vectors of columns at a time and stored once, with no read of what
    /// it writes: its even columns v = 2j′ take the even kernel columns n at j = j′ − n/2, its odd ones the odd n at j = j′ −
    /// (n − 1)/2, from the kernel rows m with the parity of u; a load of dL/dcolumns keeps the lanes whose j is inside the
    /// output (a lane mask), and the two vectors of sums are interleaved into the row. Every float of the planes is written:
    /// the border with the sums that fall on the padding. A row's last vectors write up to <c>2 · Count − 1</c> floats past it
    /// (into the next row, written next, or past the last plane), and loads read up to <c>Count − 1 + ⌊kw / 2⌋</c> floats past a
    /// row of dL/dcolumns (lanes that are masked), so both buffers need that slack. Each float sums its taps in order (m, then n).
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void FoldStride2<TVector>(ref float columnsGradient, ref float padded, int channels, int kernelHeight, int kernelWidth, int outputHeight,
        int outputWidth, int paddedHeight, int paddedWidth, int columnsRow)
        where TVector : struct, IFloatVector<TVector>
    {
        int pixels = columnsRow, half = (paddedWidth + 1) / 2;
        ref float row = ref padded;
        for (int t = 0; t < channels; t++)
        {
            ref float channel = ref Unsafe.Add(ref columnsGradient, t * kernelHeight * kernelWidth * pixels);
            for (int u = 0; u < paddedHeight; u++)
            {
                for (int jv = 0; jv < half; jv += TVector.Count)
                {
                    TVector even = TVector.Zero, odd = TVector.Zero;
                    for (int m = u & 1; m < kernelHeight && m <= u; m += 2)
                    {
                        int i = (u - m) >> 1;
                        if (i >= outputHeight)
                        {
                            continue;
                        }

                        ref float tapRow = ref Unsafe.Add(ref channel, m * kernelWidth * pixels + i * outputWidth + jv);
                        for (int n = 0; n < kernelWidth; n++)
                        {
                            int shift = n >> 1;
                            TVector v = TVector.Masked(TVector.Load(ref Unsafe.Add(ref tapRow, n * pixels - shift)), TVector.LaneMask(shift - jv, outputWidth + shift - jv));
                            if ((n & 1) == 0)
                            {
                                even = TVector.Add(even, v);
                            }
                            else
                            {
                                odd = TVector.Add(odd, v);
                            }
                        }
                    }

                    TVector.Store(TVector.InterleaveLower(even, odd), ref Unsafe.Add(ref row, 2 * jv));
                    TVector.Store(TVector.InterleaveUpper(even, odd), ref Unsafe.Add(ref row, 2 * jv + TVector.Count));
                }

                row = ref Unsafe.Add(ref row, paddedWidth);
            }
        }
    }
}
