using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace NetGen.Kernels;

/// <summary>
/// The vector types generated kernels can run with, one per <see cref="IFloatVector{TSelf}"/> implementation.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public enum VectorKernel
{
    /// <summary><see cref="Kernels.Float1"/>: one float, the scalar path.</summary>
    Float1,

    /// <summary><see cref="Kernels.Float128Unfused"/>: 4 floats, multiply then add (no FMA in hardware).</summary>
    Float128Unfused,

    /// <summary><see cref="Kernels.Float128"/>: 4 floats with fused multiply-add.</summary>
    Float128,

    /// <summary><see cref="Kernels.Float256"/>: 8 floats with fused multiply-add.</summary>
    Float256,

    /// <summary><see cref="Kernels.Float512"/>: 16 floats.</summary>
    Float512,
}

/// <summary>
/// Which vector type generated kernels run with on this machine: the one rule the generated dispatch follows.
/// For use by code that the NetGen source generator emits; not intended to be called directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class VectorWidth
{
    /// <summary>
    /// Whether the CPU fuses multiply-add in hardware (x86 FMA3, any Arm64). Without it <c>FusedMultiplyAdd</c> is emulated
    /// one lane at a time, so <see cref="Kernel"/> is <see cref="VectorKernel.Float128Unfused"/>. A constant under the JIT;
    /// in a NativeAOT build for an instruction set without FMA, a check.
    /// </summary>
    public static bool HasFusedMultiplyAdd => Fma.IsSupported || AdvSimd.IsSupported;

    /// <summary>
    /// The widest vector type the hardware runs natively: <see cref="Vector512"/> when accelerated, else
    /// <see cref="Vector256"/> or <see cref="Vector128"/> with FMA, else <see cref="Vector128"/> without it, else the scalar
    /// path. A width or an instruction the hardware only emulates is never chosen. Generated passes switch on it once per
    /// pass; under the JIT it is a constant and the switch folds away.
    /// </summary>
    public static VectorKernel Kernel
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.IsHardwareAccelerated ? VectorKernel.Float512
            : Vector256.IsHardwareAccelerated && HasFusedMultiplyAdd ? VectorKernel.Float256
            : Vector128.IsHardwareAccelerated && HasFusedMultiplyAdd ? VectorKernel.Float128
            : Vector128.IsHardwareAccelerated ? VectorKernel.Float128Unfused
            : VectorKernel.Float1;
    }

    /// <summary>Floats per vector of <see cref="Kernel"/>: 16, 8, 4 or 1.</summary>
    public static int Lanes => Kernel switch
    {
        VectorKernel.Float512 => 16,
        VectorKernel.Float256 => 8,
        VectorKernel.Float128 or VectorKernel.Float128Unfused => 4,
        _ => 1,
    };

    /// <summary>A short description of <see cref="Kernel"/>, e.g. "Vector512 (16 floats)" or "scalar".</summary>
    public static string Description => Kernel switch
    {
        VectorKernel.Float512 => "Vector512 (16 floats)",
        VectorKernel.Float256 => "Vector256 (8 floats)",
        VectorKernel.Float128 => "Vector128 (4 floats)",
        VectorKernel.Float128Unfused => "Vector128 (4 floats, multiply and add unfused)",
        _ => "scalar",
    };
}
