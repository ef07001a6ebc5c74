using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace NetGen.Kernels;

/// <summary>Which vector width generated kernels run with on this machine, by the rule they use themselves.</summary>
public static class VectorWidth
{
    /// <summary>
    /// Whether the CPU fuses multiply-add in hardware (x86 FMA3, any Arm64). Generated code runs <see cref="Float256"/> and
    /// <see cref="Float128"/> only when it does, else <see cref="Float128Unfused"/>. A constant under the JIT; in a NativeAOT
    /// build for an instruction set without FMA, a check made once per pass.
    /// </summary>
    public static bool HasFusedMultiplyAdd => Fma.IsSupported || AdvSimd.IsSupported;

    /// <summary>
    /// Floats per vector: 16 when <see cref="Vector512"/> is hardware-accelerated, else 8 (<see cref="Vector256"/>),
    /// else 4 (<see cref="Vector128"/>), else 1 (the scalar path). A width the hardware only emulates is never used.
    /// </summary>
    public static int Lanes =>
        Vector512.IsHardwareAccelerated ? 16
        : Vector256.IsHardwareAccelerated && HasFusedMultiplyAdd ? 8
        : Vector128.IsHardwareAccelerated ? 4
        : 1;

    /// <summary>A short description, e.g. "Vector512 (16 floats)" or "scalar".</summary>
    public static string Description => Lanes switch
    {
        16 => "Vector512 (16 floats)",
        8 => "Vector256 (8 floats)",
        4 => HasFusedMultiplyAdd ? "Vector128 (4 floats)" : "Vector128 (4 floats, multiply and add unfused)",
        _ => "scalar",
    };
}
