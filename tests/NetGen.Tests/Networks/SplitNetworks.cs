using NetGen;

namespace NetGen.Tests.Networks;

// Networks with layers a one-sample forward pass splits across threads (at least 1M multiply-adds per sample, and 256 per
// float of the layer's input and output), one per way a layer computes, with unit counts that leave a short last part.

/// <summary>A convolution over 14-pixel rows (the compacted direct kernel), 40 filters: parts of 16, 16 and 8.</summary>
[Input(16, 14, 14)]
[Conv2D(40, 5, Padding = 2)]
[ReLU]
[Dense(10)]
[Softmax]
public partial class SplitCompactedNet { }

/// <summary>A convolution over 20-pixel rows (the direct kernel from the padded copy), 61 filters: parts of 16 and a last of 13.</summary>
[Input(64, 18, 20)]
[Conv2D(61, 3, Padding = 1)]
[Dense(5)]
[Softmax]
public partial class SplitDirectNet { }

/// <summary>A stride-2 convolution (unfold, then one product per part), then a dense layer of 300 outputs (parts of 20).</summary>
[Input(128, 10, 10)]
[Conv2D(200, 3, Stride = 2, Padding = 1)]
[ReLU]
[Dense(300)]
[ReLU]
[Dense(6)]
[Softmax]
public partial class SplitUnfoldDenseNet { }

/// <summary>Convolutions without bias: the unfolded product's sums start at nothing, the direct kernel's at zeros.</summary>
[Input(128, 10, 10)]
[Conv2D(256, 3, Stride = 2, Padding = 1, Bias = false)]
[ReLU]
[Conv2D(63, 3, Padding = 1, Bias = false)]
[Dense(5)]
[Softmax]
public partial class SplitNoBiasNet { }

/// <summary>A convolution with a BatchNorm folded into it for inference: the split runs the folded form.</summary>
[Input(16, 14, 14)]
[Conv2D(40, 5, Padding = 2, Bias = false)]
[BatchNorm2D]
[ReLU]
[Dense(5)]
[Softmax]
public partial class SplitFoldedNet { }
