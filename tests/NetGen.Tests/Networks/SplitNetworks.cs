using NetGen;

namespace NetGen.Tests.Networks;

// Networks with layers large enough (≥ 1M multiply-adds per sample) for a one-sample forward pass to split them across
// threads, one per way a layer computes: odd unit counts, so that the last part is short.

/// <summary>A convolution over 14-pixel rows (the compacted direct kernel), 40 filters: parts of 16, 16 and 8.</summary>
[Input(8, 14, 14)]
[Conv2D(40, 5, Padding = 2)]
[ReLU]
[Dense(10)]
[Softmax]
public partial class SplitCompactedNet { }

/// <summary>A convolution over 41-pixel rows (the direct kernel from the padded copy), 29 filters: parts of 8 and a last of 5.</summary>
[Input(4, 37, 41)]
[Conv2D(29, 3, Padding = 1)]
[Dense(5)]
[Softmax]
public partial class SplitDirectNet { }

/// <summary>A stride-2 convolution (unfold, then one product per part), 37 filters, then a dense layer of 300 outputs (parts of 20).</summary>
[Input(16, 30, 30)]
[Conv2D(37, 3, Stride = 2, Padding = 1)]
[ReLU]
[Dense(300)]
[ReLU]
[Dense(6)]
[Softmax]
public partial class SplitUnfoldDenseNet { }

/// <summary>Convolutions without bias: the direct kernel's sums start at zeros, the unfolded product's at nothing.</summary>
[Input(8, 30, 30)]
[Conv2D(40, 5, Padding = 2, Bias = false)]
[ReLU]
[Conv2D(33, 3, Stride = 2, Padding = 1, Bias = false)]
[Dense(5)]
[Softmax]
public partial class SplitNoBiasNet { }

/// <summary>A convolution with a BatchNorm folded into it for inference: the split runs the folded form.</summary>
[Input(8, 14, 14)]
[Conv2D(40, 5, Padding = 2, Bias = false)]
[BatchNorm2D]
[ReLU]
[Dense(5)]
[Softmax]
public partial class SplitFoldedNet { }
