using System;
using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NetGen.Kernels;

/// <summary>
/// Row copies for generated im2col (unfold) code, where rows are a few to a few dozen floats and a library call per row
/// would cost more than the row; and the transposes that put a chunk's samples into the vector lanes.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Rows
{
    /// <summary>
    /// destination[0…n) = source[0…n), in whole vectors: the last one reads and writes up to <c>Count − 1</c> floats past
    /// <paramref name="n"/>, so those must be addressable and free to overwrite (generated code copies rows in order, so the
    /// next row's copy overwrites them, and the buffers end with slack). No masks and no reads of the destination: a
    /// following load of what was just written is forwarded from the store buffer.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyWhole<TVector>(ref float source, ref float destination, int n)
        where TVector : struct, IFloatVector<TVector>
    {
        for (int j = 0; j < n; j += TVector.Count)
        {
            TVector.Store(TVector.Load(ref Unsafe.Add(ref source, j)), ref Unsafe.Add(ref destination, j));
        }
    }

    /// <summary>
    /// destination[t·<paramref name="destinationPlane"/> + u·<paramref name="destinationRow"/> + v] =
    /// source[t·<paramref name="sourcePlane"/> + u·<paramref name="sourceRow"/> + v] for t &lt; <paramref name="planes"/>,
    /// u &lt; <paramref name="rows"/>, v &lt; <paramref name="width"/>: a sample's rows into the middle of its zero-padded
    /// planes, or back out. Writes nothing else. Rows as wide as a vector or wider are whole vectors, the last one ending at
    /// the row's end (overlapping the one before); a narrower row is one load and a store through a lane mask, which reads
    /// up to <c>Count − width</c> floats past the row in both spans and rewrites those of the destination unchanged, or,
    /// where a span ends before that, float by float.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A span is shorter than the sizes say.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into the generated Pad and Unpad, optimized from their first call
    public static void CopyRows<TVector>(ReadOnlySpan<float> source, int sourceRow, int sourcePlane, Span<float> destination, int destinationRow, int destinationPlane,
        int planes, int rows, int width)
        where TVector : struct, IFloatVector<TVector>
    {
        if (planes <= 0 || rows <= 0 || width <= 0)
        {
            return;
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(source.Length, (planes - 1) * sourcePlane + (rows - 1) * sourceRow + width, nameof(source));
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, (planes - 1) * destinationPlane + (rows - 1) * destinationRow + width, nameof(destination));
        ref float from = ref MemoryMarshal.GetReference(source);
        ref float to = ref MemoryMarshal.GetReference(destination);
        int count = TVector.Count;
        for (int t = 0; t < planes; t++)
        {
            for (int u = 0; u < rows; u++)
            {
                int at = t * sourcePlane + u * sourceRow, into = t * destinationPlane + u * destinationRow;
                ref float a = ref Unsafe.Add(ref from, at);
                ref float b = ref Unsafe.Add(ref to, into);
                if (width >= count)
                {
                    for (int v = 0; v + count < width; v += count)
                    {
                        TVector.Store(TVector.Load(ref Unsafe.Add(ref a, v)), ref Unsafe.Add(ref b, v));
                    }

                    TVector.Store(TVector.Load(ref Unsafe.Add(ref a, width - count)), ref Unsafe.Add(ref b, width - count));
                }
                else if (at + count <= source.Length && into + count <= destination.Length)
                {
                    TVector.StoreLanes(TVector.Load(ref a), ref b, 0, width);
                }
                else
                {
                    for (int v = 0; v < width; v++)
                    {
                        Unsafe.Add(ref b, v) = Unsafe.Add(ref a, v);
                    }
                }
            }
        }
    }

    /// <summary>
    /// destination[0…n) = source[0], source[2], …, source[2·(n − 1)] (every other float: a stride-2 convolution's tap along a
    /// row), in whole vectors, each from two loads: the last one reads up to <c>2 · Count − 1</c> floats past
    /// <c>source[2·(n − 1)]</c> and writes up to <c>Count − 1</c> past <paramref name="n"/>, as <see cref="CopyWhole"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyEven<TVector>(ref float source, ref float destination, int n)
        where TVector : struct, IFloatVector<TVector>
    {
        for (int j = 0; j < n; j += TVector.Count)
        {
            ref float from = ref Unsafe.Add(ref source, 2 * j);
            TVector.Store(TVector.PickEven(TVector.Load(ref from), TVector.Load(ref Unsafe.Add(ref from, TVector.Count))), ref Unsafe.Add(ref destination, j));
        }
    }

    /// <summary>
    /// Each sample's rows out of a product that holds <paramref name="samples"/> samples side by side, through
    /// <paramref name="epilogue"/> (its residual addressed like the destination):
    /// destination[p·<paramref name="rows"/>·<paramref name="width"/> + r·width + q] = source[r·samples·width + p·width + q] for p
    /// &lt; samples, r &lt; rows, q &lt; width (a convolution's filters × its output pixels, per sample). Writes nothing else.
    /// </summary>
    /// <remarks>
    /// A row's last vector reads up to <c>Count − 1</c> floats past it in the source and the residual, and rewrites (unchanged)
    /// as many past it in the destination: all three need that slack past their ends (generated workspaces carry it).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A span is shorter than the sizes and that slack say.</exception>
    public static void Unstack<TVector>(ReadOnlySpan<float> source, int rows, int samples, int width, Span<float> destination, Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
    {
        int length = rows * samples * width + TVector.Count - 1;
        ArgumentOutOfRangeException.ThrowIfLessThan(source.Length, length, nameof(source));
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, length, nameof(destination));
        CopyOut<TVector>(ref MemoryMarshal.GetReference(source), samples * width, width, ref MemoryMarshal.GetReference(destination), rows, samples, width,
            rows * width, epilogue);
    }

    /// <summary>
    /// <paramref name="samples"/> samples' runs of <paramref name="width"/> floats out of a product, through the epilogue:
    /// destination[p·<paramref name="sampleStride"/> + r·width + q] = source[r·<paramref name="rowStride"/> + p·<paramref name="sampleGap"/> + q]
    /// for r &lt; <paramref name="rows"/>, q &lt; width. Whole vectors; a run's last one reads up to <c>Count − 1</c> floats
    /// past it and stores only its lanes (rewriting the rest unchanged).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static void CopyOut<TVector>(ref float source, int rowStride, int sampleGap, ref float destination, int rows, int samples, int width, int sampleStride,
        Epilogue epilogue)
        where TVector : struct, IFloatVector<TVector>
    {
        for (int p = 0; p < samples; p++)
        {
            for (int r = 0; r < rows; r++)
            {
                ref float from = ref Unsafe.Add(ref source, r * rowStride + p * sampleGap);
                int to = p * sampleStride + r * width;
                int q = 0;
                for (; q + TVector.Count <= width; q += TVector.Count)
                {
                    TVector.Store(epilogue.Apply(TVector.Load(ref Unsafe.Add(ref from, q)), to + q), ref Unsafe.Add(ref destination, to + q));
                }

                if (q < width)
                {
                    TVector.StoreLanes(epilogue.Apply(TVector.Load(ref Unsafe.Add(ref from, q)), to + q), ref Unsafe.Add(ref destination, to + q), 0, width - q);
                }
            }
        }
    }

    /// <summary>
    /// The inverse of <see cref="Unstack"/> (without an epilogue): <paramref name="samples"/> samples' rows side by side,
    /// destination[r·samples·<paramref name="width"/> + p·width + q] = source[p·<paramref name="rows"/>·width + r·width + q] for p
    /// &lt; samples, r &lt; rows, q &lt; width. Writes nothing else.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A span is shorter than the sizes say.</exception>
    public static void Stack(ReadOnlySpan<float> source, int rows, int samples, int width, Span<float> destination)
    {
        int length = rows * samples * width;
        ArgumentOutOfRangeException.ThrowIfLessThan(source.Length, length, nameof(source));
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, length, nameof(destination));
        for (int p = 0; p < samples; p++)
        {
            for (int r = 0; r < rows; r++)
            {
                source.Slice((p * rows + r) * width, width).CopyTo(destination.Slice((r * samples + p) * width, width));
            }
        }
    }

    /// <summary>
    /// destination[c·<paramref name="destinationRow"/> + r] = source[r·<paramref name="sourceRow"/> + c] for r &lt; <paramref name="rows"/>,
    /// c &lt; <paramref name="columns"/>: a transpose, in blocks of 8 source rows so that each destination row segment
    /// written is 8 contiguous floats and the 8 source rows read are each read in order. Writes nothing else.
    /// </summary>
    public static void Transpose(ReadOnlySpan<float> source, int sourceRow, int rows, int columns, Span<float> destination, int destinationRow) =>
        Transpose(source, sourceRow, rows, columns, destination, destinationRow, add: false);

    /// <summary>As <see cref="Transpose(ReadOnlySpan{float}, int, int, int, Span{float}, int)"/>, but added to the destination: destination[c·destinationRow + r] += source[r·sourceRow + c].</summary>
    public static void TransposeAdd(ReadOnlySpan<float> source, int sourceRow, int rows, int columns, Span<float> destination, int destinationRow) =>
        Transpose(source, sourceRow, rows, columns, destination, destinationRow, add: true);

    /// <summary>
    /// destination[c·<paramref name="rows"/> + r] = source[r·<paramref name="columns"/> + c] through <paramref name="epilogue"/> (its
    /// residual addressed like the destination), for r &lt; rows, c &lt; columns: a product computed with pixels as rows (yᵀ,
    /// pixels × filters) copied out to a convolution's planes (filters × pixels). In blocks of 8 source rows, as
    /// <see cref="Transpose(ReadOnlySpan{float}, int, int, int, Span{float}, int)"/>; the same additions and maxima as the
    /// epilogue of a product stored in place, so the same bits. Writes nothing else.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A span is shorter than <paramref name="rows"/> · <paramref name="columns"/>.</exception>
    public static void TransposeOut(ReadOnlySpan<float> source, int rows, int columns, Span<float> destination, Epilogue epilogue)
    {
        int length = rows * columns;
        ArgumentOutOfRangeException.ThrowIfLessThan(source.Length, length, nameof(source));
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, length, nameof(destination));
        ref float from = ref MemoryMarshal.GetReference(source);
        ref float to = ref MemoryMarshal.GetReference(destination);
        ref float residual = ref epilogue.Residual;
        switch (epilogue.Kind)
        {
            case EpilogueKind.None:
                TransposeOut<Unchanged>(ref from, rows, columns, ref to, ref residual);
                break;
            case EpilogueKind.Rectify:
                TransposeOut<Rectified>(ref from, rows, columns, ref to, ref residual);
                break;
            case EpilogueKind.Add:
                TransposeOut<Added>(ref from, rows, columns, ref to, ref residual);
                break;
            default:
                TransposeOut<AddedRectified>(ref from, rows, columns, ref to, ref residual);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TransposeOut<TStep>(ref float from, int rows, int columns, ref float to, ref float residual)
        where TStep : struct, IOutputStep
    {
        for (int r0 = 0; r0 < rows; r0 += 8)
        {
            int r1 = Math.Min(r0 + 8, rows);
            for (int c = 0; c < columns; c++)
            {
                nint column = c * rows;
                for (int r = r0; r < r1; r++)
                {
                    Unsafe.Add(ref to, column + r) = Epilogue.Apply<TStep>(Unsafe.Add(ref from, r * columns + c), ref residual, column + r);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(ReadOnlySpan<float> source, int sourceRow, int rows, int columns, Span<float> destination, int destinationRow, bool add)
    {
        if (rows <= 0 || columns <= 0)
        {
            return;
        }

        // One bounds check for each whole range read and written; the loops below then stay inside them.
        ref float from = ref MemoryMarshal.GetReference(source.Slice(0, (rows - 1) * sourceRow + columns));
        ref float to = ref MemoryMarshal.GetReference(destination.Slice(0, (columns - 1) * destinationRow + rows));
        for (int r0 = 0; r0 < rows; r0 += 8)
        {
            int r1 = Math.Min(r0 + 8, rows);
            for (int c = 0; c < columns; c++)
            {
                ref float column = ref Unsafe.Add(ref to, c * destinationRow);
                for (int r = r0; r < r1; r++)
                {
                    float value = Unsafe.Add(ref from, r * sourceRow + c);
                    Unsafe.Add(ref column, r) = add ? Unsafe.Add(ref column, r) + value : value;
                }
            }
        }
    }
}
