using NetGen;

namespace NetGen.Tests.Networks;

// Networks with layers a one-sample forward pass splits across threads (at least 1M multiply-adds per sample, and 512 per
// float of the layer's input and output), one per way a layer computes, with unit counts that leave a short last part.

/// <summary>
/// A convolution over 14-pixel rows, compacted on one thread; split, its parts run the direct kernel from the padded
/// copy. 40 filters: parts of 16, 16 and 8.
/// </summary>
[Input(64, 14, 14)]
[Conv2D(40, 5, Padding = 2)]
[ReLU]
[Dense(10)]
[Softmax]
public partial class SplitCompactedNet { }

/// <summary>A convolution over 20-pixel rows (the direct kernel from the padded copy), 45 filters: parts of 16, 16 and 13.</summary>
[Input(48, 18, 20)]
[Conv2D(45, 5, Padding = 2)]
[Dense(5)]
[Softmax]
public partial class SplitDirectNet { }

/// <summary>A stride-2 convolution (unfold, then one product per part), then a dense layer of 700 outputs (parts of 44).</summary>
[Input(64, 10, 10)]
[Conv2D(128, 5, Stride = 2, Padding = 2)]
[ReLU]
[Dense(700)]
[ReLU]
[Dense(6)]
[Softmax]
public partial class SplitUnfoldDenseNet { }

/// <summary>Convolutions without bias: the unfolded product's sums start at nothing, the direct kernel's at zeros.</summary>
[Input(64, 10, 10)]
[Conv2D(128, 5, Stride = 2, Padding = 2, Bias = false)]
[ReLU]
[Conv2D(100, 5, Padding = 2, Bias = false)]
[Dense(5)]
[Softmax]
public partial class SplitNoBiasNet { }

/// <summary>A convolution with a BatchNorm folded into it for inference: the split runs the folded form.</summary>
[Input(64, 14, 14)]
[Conv2D(40, 5, Padding = 2, Bias = false)]
[BatchNorm2D]
[ReLU]
[Dense(5)]
[Softmax]
public partial class SplitFoldedNet { }

/// <summary>
/// A stride-2 convolution large enough to split (512 → 512 at 7×7) whose inference form multiplies a lone sample with
/// pixels as rows: on one thread that product, on two the parts with filters as rows; the same sums either way.
/// </summary>
[Input(512, 13, 13)]
[Conv2D(512, 3, Stride = 2, Padding = 1, Bias = false, Name = "wide")]
[BatchNorm2D]
[ReLU]
[GlobalAvgPool2D]
[Dense(5)]
[Softmax]
public partial class SplitPixelRowsNet { }

/// <summary>
/// A split convolution that adds an earlier layer's output and rectifies as it stores (the [Add] and [ReLU] after it
/// folded in): each part adds the residual at its own filters' offsets. (56 filters, not a multiple of 16: no Winograd
/// form, which is never split.)
/// </summary>
[Input(32, 14, 14)]
[Conv2D(56, 3, Padding = 1, Name = "a")]
[Conv2D(56, 5, Padding = 2, Name = "b")]
[Add("a")]
[ReLU]
[Dense(5)]
[Softmax]
public partial class SplitResidualNet { }

/// <summary>
/// A convolution large enough to split (6.8M multiply-adds, 550 per float of its input and output) whose 7-pixel output rows
/// would fill under half of the direct kernel's vectors: not split. (120 filters, not a multiple of 16: no Winograd form.)
/// </summary>
[Input(128, 7, 7)]
[Conv2D(120, 3, Padding = 1)]
[Dense(5)]
[Softmax]
public partial class NarrowRowsNet { }

/// <summary>
/// Two Winograd convolutions large enough to split (7.2M multiply-adds each, 575 per float of input and output), the second
/// with the [Add] and [ReLU] after it in its stores: each split by tile rows, 4 in 2 parts of 2.
/// </summary>
[Input(128, 7, 7)]
[Conv2D(128, 3, Padding = 1, Name = "a")]
[Conv2D(128, 3, Padding = 1, Name = "b")]
[Add("a")]
[ReLU]
[Dense(5)]
[Softmax]
public partial class SplitWinogradNet { }
