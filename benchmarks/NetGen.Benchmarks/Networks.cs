using NetGen;

namespace NetGen.Benchmarks;

// The three networks of samples/FashionMnist, declared again here (same attributes) so that the benchmarks do not
// depend on the sample. NetGen generates LeNet5.g.cs, WideNet.g.cs and ResNet.g.cs for them; with EmitCompilerGeneratedFiles
// they are under obj/Release/net10.0/generated/NetGen.Generator/NetGen.Generator.NetworkGenerator/.

/// <summary>LeNet-5 with ReLU and max pooling, for 28×28 grey images: 61,706 parameters.</summary>
[Input(1, 28, 28)]
[Conv2D(6, 5, Padding = 2)]
[ReLU]
[MaxPool2D(2)]
[Conv2D(16, 5)]
[ReLU]
[MaxPool2D(2)]
[Dense(120)]
[ReLU]
[Dense(84)]
[ReLU]
[Dense(10)]
[Softmax]
public partial class LeNet5 { }

/// <summary>The network of TensorFlow's layers tutorial: about 3.3 million parameters.</summary>
[Input(1, 28, 28)]
[Conv2D(32, 5, Padding = 2)]
[ReLU]
[MaxPool2D(2)]
[Conv2D(64, 5, Padding = 2)]
[ReLU]
[MaxPool2D(2)]
[Dense(1024)]
[ReLU]
[Dense(10)]
[Softmax]
public partial class WideNet { }

/// <summary>
/// The sample's small residual network: a 3×3 stem, then three basic blocks (conv-ReLU-conv plus a shortcut, then ReLU)
/// at 16×28×28 (identity shortcut), 32×14×14 and 64×7×7 (stride-2 first convolution, 1×1 stride-2 projection shortcut
/// reading the previous block), a dense head: 108,138 parameters. TorchModel and OnnxModel build the same graph.
/// </summary>
[Input(1, 28, 28)]
[Conv2D(16, 3, Padding = 1, Name = "stem")]
[ReLU(Name = "stem_relu")]
[Conv2D(16, 3, Padding = 1, Name = "block1_conv1")]
[ReLU(Name = "block1_relu1")]
[Conv2D(16, 3, Padding = 1, Name = "block1_conv2")]
[Add("stem_relu", Name = "block1_add")]
[ReLU(Name = "block1")]
[Conv2D(32, 3, Stride = 2, Padding = 1, Name = "block2_conv1")]
[ReLU(Name = "block2_relu1")]
[Conv2D(32, 3, Padding = 1, Name = "block2_conv2")]
[Conv2D(32, 1, Stride = 2, Input = "block1", Name = "block2_shortcut")]
[Add("block2_conv2", Name = "block2_add")]
[ReLU(Name = "block2")]
[Conv2D(64, 3, Stride = 2, Padding = 1, Name = "block3_conv1")]
[ReLU(Name = "block3_relu1")]
[Conv2D(64, 3, Padding = 1, Name = "block3_conv2")]
[Conv2D(64, 1, Stride = 2, Input = "block2", Name = "block3_shortcut")]
[Add("block3_conv2", Name = "block3_add")]
[ReLU(Name = "block3")]
[Dense(10, Name = "head")]
[Softmax]
public partial class ResNet { }

/// <summary>LeNet5's second convolution alone (6×14×14 → 16×10×10, 5×5, no padding), for the conv-forward benchmark; softmax only because a network must end in one.</summary>
[Input(6, 14, 14)]
[Conv2D(16, 5)]
[Softmax]
public partial class LeNet5Conv2 { }

/// <summary>WideNet's second convolution alone (32×14×14 → 64×14×14, 5×5, padding 2), for the conv-forward benchmark.</summary>
[Input(32, 14, 14)]
[Conv2D(64, 5, Padding = 2)]
[Softmax]
public partial class WideNetConv2 { }
