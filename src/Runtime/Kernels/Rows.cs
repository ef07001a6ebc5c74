using System.Runtime.CompilerServices;

namespace NetGen.Kernels;

/// <summary>Row copies for generated im2col (unfold) code, where rows are a few to a few dozen floats and a library call per row would cost more than the row.</summary>
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
}
