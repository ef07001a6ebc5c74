using System.Runtime.Intrinsics;

namespace NetGen.Kernels;

/// <summary>Which vector width generated kernels run with on this machine, by the rule they use themselves.</summary>
public static class VectorWidth
{
    /// <summary>
    /// Floats per vector: 16 when <see cref="Vector512"/> is hardware-accelerated, else 8 (<see cref="Vector256"/>),
    /// else 4 (<see cref="Vector128"/>), else 1 (the scalar path). A width the hardware only emulates is never used.
    /// </summary>
    public static int Lanes =>
        Vector512.IsHardwareAccelerated ? 16
        : Vector256.IsHardwareAccelerated ? 8
        : Vector128.IsHardwareAccelerated ? 4
        : 1;

    /// <summary>A short description, e.g. "Vector512 (16 floats)" or "scalar".</summary>
    public static string Description => Lanes switch
    {
        16 => "Vector512 (16 floats)",
        8 => "Vector256 (8 floats)",
        4 => "Vector128 (4 floats)",
        _ => "scalar",
    };
}
