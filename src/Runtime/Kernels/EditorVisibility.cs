using System.ComponentModel;

namespace NetGen.Kernels;

// Gemm's other parts are the kernels' own files; this part only hides the type from IntelliSense, since only generated
// code calls it. (Attributes on a partial type's parts apply to the whole type.)

/// <remarks>For use by code that the NetGen source generator emits; not intended to be called directly.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public static partial class Gemm
{
}
