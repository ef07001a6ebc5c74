using NetGen;

namespace NetGen.Tests.Networks;

// Convolutions in groups (PyTorch's groups), depthwise, and without bias, on odd shapes: one network per way the
// generated layer can compute them (its plan's choices are noted beside each).

/// <summary>2 groups, a 3×2 kernel, stride 2, padding 1: the strided unfold, then one product per group (dot products for dL/dw).</summary>
[Input(4, 9, 11)]
[Conv2D(6, 3, 2, Groups = 2, Stride = 2, Padding = 1)]
[ReLU]
[Dense(4)]
[Softmax]
public partial class GroupedStridedNet { }

/// <summary>3 groups, a 2×3 kernel, stride 1, padding 1 (output rows of 7): the whole-row unfold of the padded copy, one product per group.</summary>
[Input(6, 8, 7)]
[Conv2D(9, 2, 3, Groups = 3, Padding = 1)]
[Dense(3)]
[Softmax]
public partial class GroupedThreeNet { }

/// <summary>2 groups, output rows of 10 pixels, no bias: the direct convolution per group, its sums starting at zeros.</summary>
[Input(4, 6, 10)]
[Conv2D(6, 3, Groups = 2, Padding = 1, Bias = false)]
[Dense(3)]
[Softmax]
public partial class GroupedDirectNet { }

/// <summary>
/// 2 groups of 8 channels → 16 filters on 5×5: the compacted direct convolution per group, and dL/dw as one transposed
/// product per group (16 filters, 72 taps each).
/// </summary>
[Input(16, 5, 5)]
[Conv2D(32, 3, Groups = 2, Padding = 1)]
[Dense(3)]
[Softmax]
public partial class GroupedWideNet { }

/// <summary>Depthwise, multiplier 1, 3×3, padding 1, on 7×9: the depthwise kernels over the padded copy.</summary>
[Input(3, 7, 9)]
[Conv2D(3, 3, Groups = 3, Padding = 1)]
[ReLU]
[Dense(4)]
[Softmax]
public partial class DepthwiseNet { }

/// <summary>Depthwise, multiplier 2, a 3×2 kernel, stride 2, padding 1, no bias: the depthwise kernels' stride-2 path.</summary>
[Input(2, 9, 8)]
[Conv2D(4, 3, 2, Groups = 2, Stride = 2, Padding = 1, Bias = false)]
[Dense(3)]
[Softmax]
public partial class DepthwiseStridedNet { }

/// <summary>Depthwise, multiplier 2, a 2×3 kernel, no padding, output rows of 17 (two vectors of 16, or three of 8): the kernels read the input itself.</summary>
[Input(2, 6, 19)]
[Conv2D(4, 2, 3, Groups = 2)]
[Dense(3)]
[Softmax]
public partial class DepthwiseWideNet { }

/// <summary>Depthwise with stride 3, which the depthwise kernels do not take: the strided unfold and one product per channel.</summary>
[Input(3, 10, 9)]
[Conv2D(3, 3, Groups = 3, Stride = 3, Padding = 1)]
[Dense(3)]
[Softmax]
public partial class DepthwiseStride3Net { }

/// <summary>Plain convolutions without bias: direct (rows of 12 pixels, stride 1), then unfolded (stride 2).</summary>
[Input(2, 8, 12)]
[Conv2D(3, 3, Padding = 1, Bias = false)]
[ReLU]
[Conv2D(4, 3, Stride = 2, Bias = false)]
[Dense(3)]
[Softmax]
public partial class NoBiasNet { }

/// <summary>
/// A MobileNetV2 inverted residual block: a 1×1 expansion without bias, a depthwise 3×3 without bias, a grouped 1×1
/// projection, added to the block's input.
/// </summary>
[Input(4, 7, 6, Name = "x")]
[Conv2D(8, 1, Bias = false)]
[ReLU]
[Conv2D(8, 3, Padding = 1, Groups = 8, Bias = false, Name = "depthwise")]
[ReLU]
[Conv2D(4, 1, Groups = 2, Name = "project")]
[Add("x")]
[Dense(3)]
[Softmax]
public partial class InvertedResidualNet { }
