using NetGen;

namespace NetGen.Tests.Networks;

// BatchNorm2D and Dropout on odd shapes, alone and in a residual graph.

/// <summary>A convolution, its BatchNorm (non-default ε and momentum) and a ReLU; BatchNorm after a dense layer too (C×1×1).</summary>
[Input(2, 5, 7)]
[Conv2D(3, 3, Padding = 1)]
[BatchNorm2D(Epsilon = 1e-3f, Momentum = 0.3f)]
[ReLU]
[Dense(4)]
[BatchNorm2D]
[Softmax]
public partial class BatchNormNet { }

/// <summary>Dropout between two dense layers, and on a convolution's output.</summary>
[Input(2, 4, 5)]
[Conv2D(3, 3, Padding = 1)]
[Dropout(0.3f)]
[Dense(6)]
[ReLU]
[Dropout(0.5f)]
[Dense(3)]
[Softmax]
public partial class DropoutNet { }

/// <summary>A residual block with BatchNorm on both branches and dropout before the head.</summary>
[Input(2, 6, 6)]
[Conv2D(4, 3, Padding = 1)]
[BatchNorm2D]
[ReLU(Name = "stem")]
[Conv2D(4, 3, Padding = 1)]
[BatchNorm2D]
[Add("stem")]
[ReLU]
[Dropout(0.25f)]
[Dense(3)]
[Softmax]
public partial class NormalizedResidualNet { }

/// <summary>
/// A residual block whose two convolutions (32 → 32, 3×3, stride 1) run by Winograd's F(2×2, 3×3) in the training forward
/// pass too, over their own weights transformed before each training call: the first without a bias (its BatchNorm's
/// ReLU folded into its inference form), the second with one. A 4×3 input: 2×2 tiles, the last column of tiles half
/// outside.
/// </summary>
[Input(32, 4, 3)]
[Conv2D(32, 3, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2D]
[ReLU(Name = "a")]
[Conv2D(32, 3, Padding = 1, Name = "conv2")]
[BatchNorm2D]
[Add("a")]
[ReLU]
[GlobalAvgPool2D]
[Dense(3)]
[Softmax]
public partial class WinogradTrainingNet { }

/// <summary>A regression head on a dense output.</summary>
[Input(2, 5, 4)]
[Conv2D(3, 3, Padding = 1)]
[ReLU]
[Dense(3)]
[MeanSquaredError]
public partial class RegressionNet { }

/// <summary>A regression head on a feature map (2×3×3 outputs), after a residual join.</summary>
[Input(1, 5, 5, Name = "x")]
[Conv2D(2, 3, Name = "a")]
[Conv2D(2, 3, Input = "x", Name = "b")]
[Add("a")]
[MeanSquaredError]
public partial class MapRegressionNet { }

/// <summary>
/// BatchNorms that inference folds into the convolution before them (with and without its bias, depthwise, grouped and
/// feeding a join) and BatchNorms it cannot fold: after a pooling, after a convolution another layer reads too (a stride-2
/// one), after a join. Its source is also <see cref="Generator.BatchNormFoldGeneratorTests.FoldedConvSource"/>.
/// </summary>
[Input(4, 8, 8)]
[Conv2D(6, 3, Padding = 1)]
[BatchNorm2D(Epsilon = 1e-3f)]
[ReLU]
[Conv2D(6, 3, Padding = 1, Bias = false)]
[BatchNorm2D]
[ReLU(Name = "b")]
[Conv2D(6, 3, Padding = 1, Groups = 6, Bias = false, Name = "depthwise")]
[BatchNorm2D]
[ReLU]
[Conv2D(6, 1, Groups = 2, Name = "grouped")]
[BatchNorm2D]
[Add("b")]
[ReLU]
[MaxPool2D(2)]
[BatchNorm2D(Name = "after_pool")]
[Conv2D(8, 3, Stride = 2, Padding = 1, Name = "shared")]
[BatchNorm2D(Name = "shared_bn")]
[Add("shared")]
[BatchNorm2D(Name = "after_add")]
[GlobalAvgPool2D]
[Dense(5)]
[Softmax]
public partial class FoldedConvNet { }

/// <summary>
/// Convolutions whose inference form runs Winograd's F(2×2, 3×3) (3×3, stride 1, 32 or more channels and filters, multiples
/// of 16): with a ReLU after the BatchNorm, with an Add and a ReLU, and without padding (a 7×5 output, whose last tiles
/// reach past it); the last convolution has too few filters and keeps the direct kernel. Its source is also
/// <see cref="Generator.BatchNormFoldGeneratorTests.WinogradSource"/>.
/// </summary>
[Input(32, 9, 7)]
[Conv2D(48, 3, Padding = 1, Bias = false, Name = "conv1")]
[BatchNorm2D]
[ReLU(Name = "a")]
[Conv2D(48, 3, Padding = 1, Name = "conv2")]
[BatchNorm2D]
[Add("a")]
[ReLU]
[Conv2D(32, 3, Name = "valid")]
[BatchNorm2D]
[ReLU]
[Conv2D(16, 3, Padding = 1, Name = "narrow")]
[BatchNorm2D]
[GlobalAvgPool2D]
[Dense(5)]
[Softmax]
public partial class WinogradNet { }

/// <summary>
/// Convolutions whose inference form multiplies with pixels as rows (see <c>ConvolutionStrategy.TransposedProductPays</c>):
/// a stride-2 3×3 over 40 channels (360 rows, 36 pixels) with no bias and no BatchNorm, its ReLU stored by the copy out; a
/// second over 48 channels (432 rows, 9 pixels) with its BatchNorm folded in and the [Add] and [ReLU] after it stored by
/// the copy out; and a 1×1 projection (48 rows) too short to be transposed. Odd sizes throughout.
/// </summary>
[Input(40, 11, 11)]
[Conv2D(48, 3, Stride = 2, Padding = 1, Bias = false, Name = "down")]
[ReLU(Name = "a")]
[Conv2D(48, 1, Stride = 2, Name = "shortcut")]
[BatchNorm2D(Name = "shortcut_bn")]
[Conv2D(48, 3, Stride = 2, Padding = 1, Input = "a", Name = "second")]
[BatchNorm2D(Name = "second_bn")]
[Add("shortcut_bn", Name = "add")]
[ReLU(Name = "out")]
[GlobalAvgPool2D]
[Dense(5)]
[Softmax]
public partial class PixelRowsNet { }
