using NetGen;

namespace NetGen.Tests.Networks;

// One network per new layer kind and argument case, on odd shapes (row lengths that are no multiple of a vector,
// planes that leave rows and columns out of every window), and one graph that uses them all.

/// <summary>Tanh after a padded convolution: 3×5×3 = 45 floats a sample (no multiple of a vector).</summary>
[Input(2, 5, 3)]
[Conv2D(3, 3, Padding = 1)]
[Tanh]
[Dense(4)]
[Softmax]
public partial class TanhNet { }

/// <summary>Sigmoid on the input (21 floats) and on 3 units: lengths below a vector, where TensorPrimitives loops over scalars.</summary>
[Input(1, 3, 7)]
[Sigmoid]
[Dense(3)]
[Sigmoid]
[Dense(3)]
[Softmax]
public partial class SigmoidNet { }

/// <summary>LeakyReLU with PyTorch's default slope 0.01 on the input, and a slope of 0.2 after a convolution.</summary>
[Input(2, 4, 5)]
[LeakyReLU]
[Conv2D(3, 2)]
[LeakyReLU(Slope = 0.2f)]
[Dense(3)]
[Softmax]
public partial class LeakyReLUNet { }

/// <summary>A negative slope (PyTorch allows any): the output's sign no longer tells the branch, the input's does.</summary>
[Input(1, 5, 5)]
[LeakyReLU(Slope = -0.5f)]
[Dense(3)]
[Softmax]
public partial class NegativeSlopeNet { }

/// <summary>2×2 average pooling, stride 2, on 2×7×5: the last row and column are in no window.</summary>
[Input(2, 7, 5)]
[AvgPool2D(2)]
[Dense(3)]
[Softmax]
public partial class AvgPoolNet { }

/// <summary>Overlapping 3×3 windows, stride 2, padding 1 (the padding counts as zeros: every window divided by 9).</summary>
[Input(3, 7, 9)]
[AvgPool2D(3, Stride = 2, Padding = 1)]
[Dense(3)]
[Softmax]
public partial class PaddedAvgPoolNet { }

/// <summary>Stride 1 with padding 1 (the same size out); and 4×4 windows, stride 3, padding 2 on what is left.</summary>
[Input(2, 6, 8)]
[AvgPool2D(3, Stride = 1, Padding = 1)]
[AvgPool2D(4, Stride = 3, Padding = 2)]
[Dense(3)]
[Softmax]
public partial class OverlappingAvgPoolNet { }

/// <summary>Global average pooling after a convolution, then a classifier.</summary>
[Input(2, 5, 7)]
[Conv2D(4, 3)]
[GlobalAvgPool2D]
[Dense(3)]
[Softmax]
public partial class GlobalAvgPoolNet { }

/// <summary>Global average pooling straight into the softmax: three channels, three classes.</summary>
[Input(3, 4, 5)]
[GlobalAvgPool2D]
[Softmax]
public partial class GlobalAvgPoolLogitsNet { }

/// <summary>Max pooling with padding: 3×3, stride 2, padding 1 (the vectorized stride-2 path) on 2×7×9.</summary>
[Input(2, 7, 9)]
[MaxPool2D(3, Stride = 2, Padding = 1)]
[Dense(3)]
[Softmax]
public partial class PaddedPoolNet { }

/// <summary>Max pooling with padding on the other paths: 2×2, padding 1 (stride 2, windows side by side); 3×3, stride 1, padding 1; 4×4, stride 3, padding 2.</summary>
[Input(1, 6, 7)]
[MaxPool2D(2, Padding = 1)]
[MaxPool2D(3, Stride = 1, Padding = 1)]
[MaxPool2D(4, Stride = 3, Padding = 2)]
[Dense(3)]
[Softmax]
public partial class PaddedPoolPathsNet { }

/// <summary>A ReLU fused into padded max poolings, on both paths: max(0, max over the window), −∞ padding never winning.</summary>
[Input(2, 9, 8)]
[Conv2D(3, 3)]
[ReLU]
[MaxPool2D(3, Stride = 2, Padding = 1)]
[Conv2D(3, 1)]
[ReLU]
[MaxPool2D(3, Stride = 1, Padding = 1)]
[Dense(4)]
[Softmax]
public partial class RectifiedPaddedPoolNet { }

/// <summary>
/// Every new kind inside a graph: a stem with a ReLU fused into a padded max pooling, read by three branches (a
/// LeakyReLU block, a padded average pooling, a sigmoid gate); a residual sum through tanh, joined by channels with the
/// gate; global average pooling and a classifier.
/// </summary>
[Input(2, 9, 7)]
[Conv2D(4, 3, Padding = 1)]
[ReLU]
[MaxPool2D(3, Stride = 2, Padding = 1, Name = "stem")]
[Conv2D(4, 3, Padding = 1)]
[LeakyReLU(Slope = 0.1f)]
[Conv2D(4, 3, Padding = 1, Name = "main")]
[AvgPool2D(3, Stride = 1, Padding = 1, Input = "stem", Name = "smooth")]
[Add("main")]
[Tanh(Name = "mixed")]
[Sigmoid(Input = "stem", Name = "gate")]
[Concat("mixed")]
[GlobalAvgPool2D]
[Dense(5)]
[Softmax]
public partial class NewLayersGraphNet { }

/// <summary>
/// Two padded max poolings of the input (the stride-2 path and the general one), each through a ReLU to a dense head:
/// a window whose elements are all −∞ has output −∞, which the ReLU turns into 0 with no gradient.
/// </summary>
[Input(1, 4, 5, Name = "x")]
[MaxPool2D(3, Stride = 2, Padding = 1)]
[ReLU]
[Dense(3, Name = "h1")]
[MaxPool2D(3, Stride = 1, Padding = 1, Input = "x")]
[ReLU]
[Dense(3)]
[Add("h1")]
[Softmax]
public partial class MinusInfinityPoolNet { }
