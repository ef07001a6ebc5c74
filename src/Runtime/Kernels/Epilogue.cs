using System.ComponentModel;
using System.Runtime.CompilerServices;

namespace NetGen.Kernels;

/// <summary>
/// What a kernel does to each output as it stores it, after the sum: add the same element of a residual (the other input
/// of an [Add] after the layer), then, when it rectifies, take max(·, 0) (a [ReLU] after it). The layers after a
/// convolution then cost nothing: their work is done on the register tile, where a separate pass would read and write
/// the whole output again. sum + residual and max(·, 0) are what the [Add] and [ReLU] passes compute, so the results are
/// the same bits.
/// </summary>
/// <remarks>
/// The residual is addressed like the output: the element at the output's offset o is at <c>residual + o</c>, and a
/// vector of outputs reads a whole vector of the residual wherever the kernel loads or stores a whole vector of the
/// output (its lanes past the output's are not stored), so the residual needs the same slack as the output. For use by
/// code that the NetGen source generator emits; not intended to be called directly.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly ref struct Epilogue
{
    private readonly ref float _residual;
    private readonly bool _rectifies;

    /// <summary>An epilogue that adds <paramref name="residual"/> (addressed like the output) and, when <paramref name="rectifies"/>, then takes max(·, 0).</summary>
    public Epilogue(ref float residual, bool rectifies)
    {
        _residual = ref residual;
        _rectifies = rectifies;
    }

    private Epilogue(bool rectifies)
    {
        _residual = ref Unsafe.NullRef<float>();
        _rectifies = rectifies;
    }

    /// <summary>Stores the sums as they are.</summary>
    public static Epilogue None => default;

    /// <summary>max(sum, 0): a ReLU after the layer.</summary>
    public static Epilogue Rectify => new(rectifies: true);

    /// <summary>Whether the epilogue leaves the sums as they are.</summary>
    public bool IsNone => !_rectifies && Unsafe.IsNullRef(ref _residual);

    /// <summary>The residual (a null reference without one), addressed like the output.</summary>
    internal ref float Residual => ref _residual;

    /// <summary>Which of the four epilogues this is, for a kernel to pick its <see cref="IOutputStep"/>.</summary>
    internal EpilogueKind Kind =>
        Unsafe.IsNullRef(ref _residual) ? (_rectifies ? EpilogueKind.Rectify : EpilogueKind.None)
        : _rectifies ? EpilogueKind.AddRectify : EpilogueKind.Add;

    /// <summary>The vector of outputs at <paramref name="offset"/> (from where this epilogue starts), from its sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal TVector Apply<TVector>(TVector sum, nint offset)
        where TVector : struct, IFloatVector<TVector>
    {
        if (!Unsafe.IsNullRef(ref _residual))
        {
            sum = TVector.Add(sum, TVector.Load(ref Unsafe.Add(ref _residual, offset)));
        }

        return _rectifies ? TVector.Max(sum, TVector.Zero) : sum;
    }

    /// <summary>
    /// The vector of outputs at <paramref name="offset"/> from its sums, with the epilogue <typeparamref name="TStep"/> and its
    /// residual: the form register tiles use, where the step is a type, so the JIT compiles each tile once per step and a tile
    /// without one exactly as if there were no epilogue (nothing more live across its loop).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TVector Apply<TVector, TStep>(TVector sum, ref float residual, nint offset)
        where TVector : struct, IFloatVector<TVector>
        where TStep : struct, IOutputStep
    {
        if (TStep.AddsResidual)
        {
            sum = TVector.Add(sum, TVector.Load(ref Unsafe.Add(ref residual, offset)));
        }

        return TStep.Rectifies ? TVector.Max(sum, TVector.Zero) : sum;
    }

    /// <summary>
    /// The residual of the outputs <paramref name="offset"/> floats on, where <typeparamref name="TStep"/> reads one; otherwise the
    /// (null) reference as it is, so that no reference is ever made from a null one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ref float Advance<TStep>(ref float residual, nint offset)
        where TStep : struct, IOutputStep =>
        ref TStep.AddsResidual ? ref Unsafe.Add(ref residual, offset) : ref residual;

    /// <summary>One output at <paramref name="offset"/> from its sum, with the epilogue <typeparamref name="TStep"/> and its residual.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Apply<TStep>(float sum, ref float residual, nint offset)
        where TStep : struct, IOutputStep
    {
        if (TStep.AddsResidual)
        {
            sum += Unsafe.Add(ref residual, offset);
        }

        return TStep.Rectifies ? float.Max(sum, 0f) : sum;
    }
}

/// <summary>The four epilogues.</summary>
internal enum EpilogueKind
{
    None,
    Rectify,
    Add,
    AddRectify,
}

/// <summary>An epilogue as a type (see <see cref="Epilogue.Apply{TVector, TStep}"/>): what it does, as constants the JIT folds.</summary>
internal interface IOutputStep
{
    static abstract bool AddsResidual { get; }

    static abstract bool Rectifies { get; }
}

/// <summary>The sums as they are.</summary>
internal readonly struct Unchanged : IOutputStep
{
    public static bool AddsResidual => false;

    public static bool Rectifies => false;
}

/// <summary>max(sum, 0).</summary>
internal readonly struct Rectified : IOutputStep
{
    public static bool AddsResidual => false;

    public static bool Rectifies => true;
}

/// <summary>sum + residual.</summary>
internal readonly struct Added : IOutputStep
{
    public static bool AddsResidual => true;

    public static bool Rectifies => false;
}

/// <summary>max(sum + residual, 0).</summary>
internal readonly struct AddedRectified : IOutputStep
{
    public static bool AddsResidual => true;

    public static bool Rectifies => true;
}
