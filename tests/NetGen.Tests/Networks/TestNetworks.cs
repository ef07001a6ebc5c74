using NetGen;

namespace NetGen.Tests.Networks;

// Small networks that isolate one layer kind each, on shapes chosen to exercise the generated index
// arithmetic: stride 2, padding, non-square kernels and non-square inputs.

/// <summary>Convolution with stride 2, padding 1, a non-square 3×2 kernel on a non-square 2×7×9 input.</summary>
[Input(2, 7, 9)]
[Conv2D(3, 3, 2, Stride = 2, Padding = 1)]
[Dense(4)]
[Softmax]
public partial class ConvStridedNet { }

/// <summary>Convolution with stride 1, no padding, a square kernel; softmax straight over its output.</summary>
[Input(1, 6, 5)]
[Conv2D(2, 3)]
[Softmax]
public partial class ConvPlainNet { }

/// <summary>Convolution with stride 3 and padding 2 (taps that read only padding), a 1×4 kernel.</summary>
[Input(3, 5, 8)]
[Conv2D(2, 1, 4, Stride = 3, Padding = 2)]
[Dense(3)]
[Softmax]
public partial class ConvWidePaddingNet { }

/// <summary>Two dense layers on a flat input.</summary>
[Input(1, 1, 7)]
[Dense(5)]
[Dense(3)]
[Softmax]
public partial class DenseNet { }

/// <summary>ReLU between an input and a dense layer.</summary>
[Input(2, 3, 4)]
[ReLU]
[Dense(3)]
[Softmax]
public partial class ReLUNet { }

/// <summary>Non-overlapping 2×2 pooling on an odd-sized input (the last row and column are dropped).</summary>
[Input(2, 7, 5)]
[MaxPool2D(2)]
[Dense(3)]
[Softmax]
public partial class PoolNet { }

/// <summary>
/// A ReLU fused into the 2×2 max pooling after it (the vectorized one), at the input, on odd sizes, every output feeding
/// the dense layer: the input gradient passes only through windows whose maximum is positive. (MixedNet fuses one into
/// the scalar pooling.)
/// </summary>
[Input(2, 9, 11)]
[ReLU]
[MaxPool2D(2)]
[Dense(3)]
[Softmax]
public partial class RectifiedPoolNet { }

/// <summary>Overlapping 3×3 pooling with stride 2 (one input can win several windows).</summary>
[Input(1, 7, 9)]
[MaxPool2D(3, Stride = 2)]
[Dense(3)]
[Softmax]
public partial class OverlappingPoolNet { }

/// <summary>Softmax alone, over the input: the loss layer in isolation.</summary>
[Input(1, 1, 6)]
[Softmax]
public partial class SoftmaxNet { }

/// <summary>Everything at once, with explicit names and non-square shapes.</summary>
[Input(3, 13, 10)]
[Conv2D(4, 3, 5, Stride = 2, Padding = 2, Name = "features")]
[ReLU]
[MaxPool2D(2, Stride = 1)]
[Conv2D(5, 2, Name = "mixer")]
[ReLU(Name = "act")]
[Dense(6, Name = "head")]
[Softmax]
public partial class MixedNet { }

/// <summary>A dense weight larger than a core's L2 cache (600 × 480 floats = 1.15 MB): its batches run in chunks of 32.</summary>
[Input(2, 15, 20)]
[Conv2D(2, 3, Padding = 1)]
[Dense(480)]
[ReLU]
[Dense(4)]
[Softmax]
public partial class LargeDenseNet { }
