using NetGen;

namespace NetGen.Tests.Networks;

// Branched networks on odd shapes: every way a layer can read another than the one before it.

/// <summary>A ResNet basic block with a stride-2 projection shortcut (the README's TinyResNet, on a small odd input).</summary>
[Input(2, 9, 7)]
[Conv2D(3, 3, Padding = 1)]
[ReLU(Name = "stem")]
[Conv2D(4, 3, Stride = 2, Padding = 1)]
[ReLU]
[Conv2D(4, 3, Padding = 1, Name = "main")]
[Conv2D(4, 1, Stride = 2, Input = "stem", Name = "shortcut")]
[Add("main")]
[ReLU]
[Dense(5)]
[Softmax]
public partial class ProjectionResidualNet { }

/// <summary>An [Add] whose named layer is the network's input: the input's gradient is the sum of two paths.</summary>
[Input(3, 5, 6, Name = "x")]
[Conv2D(3, 3, Padding = 1)]
[ReLU]
[Add("x")]
[Dense(4)]
[Softmax]
public partial class InputResidualNet { }

/// <summary>Two identity residual blocks in a chain, the second joining the first's sum.</summary>
[Input(2, 6, 5)]
[Conv2D(3, 3, Padding = 1)]
[ReLU(Name = "a")]
[Conv2D(3, 3, Padding = 1)]
[ReLU]
[Add("a", Name = "b")]
[Conv2D(3, 3, Padding = 1)]
[ReLU]
[Add("b")]
[Dense(3)]
[Softmax]
public partial class ChainedResidualNet { }

/// <summary>Three branches of the input joined by two [Concat]s (an Inception-style block): channels b3, b2, b1.</summary>
[Input(2, 7, 5, Name = "x")]
[Conv2D(2, 3, Padding = 1, Name = "b1")]
[Conv2D(3, 1, Input = "x", Name = "b2")]
[Conv2D(1, 3, Padding = 1, Input = "x", Name = "b3")]
[Concat("b2")]
[Concat("b1")]
[ReLU]
[Dense(4)]
[Softmax]
public partial class ThreeBranchConcatNet { }

/// <summary>
/// Input = on a MaxPool2D and on a Dense: a convolution feeds a ReLU fused into its pooling and, directly, a second
/// pooling; the two are added, and two dense heads of the sum are added again.
/// </summary>
[Input(2, 8, 6)]
[Conv2D(3, 3, Padding = 1, Name = "c")]
[ReLU]
[MaxPool2D(2, Name = "p1")]
[MaxPool2D(2, Input = "c", Name = "p2")]
[Add("p1")]
[Dense(4, Name = "h1")]
[Dense(4, Input = "add1", Name = "h2")]
[Add("h1")]
[Softmax]
public partial class SideInputNet { }

/// <summary>
/// A residual block of two 32-filter 3×3 convolutions that run by Winograd's F(2×2, 3×3) in the forward pass training
/// shares (the network has no BatchNorm), over weights transformed at each training call, and in their dL/dx (over the
/// turned weight); the second with the [Add] and [ReLU] after it in its stores.
/// </summary>
[Input(32, 2, 3)]
[Conv2D(32, 3, Padding = 1)]
[ReLU(Name = "a")]
[Conv2D(32, 3, Padding = 1)]
[Add("a")]
[ReLU]
[Dense(4)]
[Softmax]
public partial class WinogradResidualNet { }

/// <summary>
/// dL/dw by Winograd's F(3×3, 2×2) with dL/dx folded back from dL/dcolumns: a valid 3×3 convolution, 32 → 32 from 4×4 to
/// 2×2 (one tile, so 4 samples per product; its input is larger than its output, so no direct dL/dx).
/// </summary>
[Input(3, 4, 4)]
[Conv2D(32, 3, Padding = 1)]
[ReLU]
[Conv2D(32, 3)]
[Dense(3)]
[Softmax]
public partial class WinogradGradientNet { }

/// <summary>
/// dL/dw by Winograd's F(5×5, 2×2) at an odd size: 32 → 48 with padding 2 at 7×5 (12 tiles, 4 samples per product), dL/dx
/// by Winograd too.
/// </summary>
[Input(3, 7, 5)]
[Conv2D(32, 3, Padding = 1)]
[ReLU]
[Conv2D(48, 5, Padding = 2)]
[Dense(3)]
[Softmax]
public partial class WinogradGradient5Net { }
