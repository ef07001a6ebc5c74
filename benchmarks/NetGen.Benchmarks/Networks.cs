using NetGen;

namespace NetGen.Benchmarks;

// The four networks of samples/FashionMnist, declared again here (same attributes) so that the benchmarks do not
// depend on the sample. NetGen generates LeNet5.g.cs, WideNet.g.cs, ResNet.g.cs and ResNetBN.g.cs for them; with
// EmitCompilerGeneratedFiles they are under obj/Release/net10.0/generated/NetGen.Generator/NetGen.Generator.NetworkGenerator/.

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

/// <summary>
/// The sample's residual network with batch normalization (samples/FashionMnist/Networks.cs, same attributes): a 3×3
/// stem (conv-BN-ReLU) at 16×28×28, three basic blocks (conv-BN-ReLU-conv-BN plus the shortcut, then ReLU) at 16×28×28
/// (identity shortcut), 64×14×14 and 128×7×7 (stride-2 first convolution, 1×1 stride-2 convolution + BN as shortcut),
/// global average pooling and a dense head. Every convolution has Bias = false: the BatchNorm after it has the shift.
/// TorchModel.ResNetBNModule and OnnxModel build the same graph.
/// </summary>
[Input(1, 28, 28)]
[Conv2D(16, 3, Padding = 1, Bias = false, Name = "stem")]
[BatchNorm2D(Name = "stem_bn")]
[ReLU(Name = "stem_relu")]
[Conv2D(16, 3, Padding = 1, Bias = false, Name = "block1_conv1")]
[BatchNorm2D(Name = "block1_bn1")]
[ReLU(Name = "block1_relu1")]
[Conv2D(16, 3, Padding = 1, Bias = false, Name = "block1_conv2")]
[BatchNorm2D(Name = "block1_bn2")]
[Add("stem_relu", Name = "block1_add")]
[ReLU(Name = "block1")]
[Conv2D(64, 3, Stride = 2, Padding = 1, Bias = false, Name = "block2_conv1")]
[BatchNorm2D(Name = "block2_bn1")]
[ReLU(Name = "block2_relu1")]
[Conv2D(64, 3, Padding = 1, Bias = false, Name = "block2_conv2")]
[BatchNorm2D(Name = "block2_bn2")]
[Conv2D(64, 1, Stride = 2, Input = "block1", Bias = false, Name = "block2_shortcut")]
[BatchNorm2D(Name = "block2_shortcut_bn")]
[Add("block2_bn2", Name = "block2_add")]
[ReLU(Name = "block2")]
[Conv2D(128, 3, Stride = 2, Padding = 1, Bias = false, Name = "block3_conv1")]
[BatchNorm2D(Name = "block3_bn1")]
[ReLU(Name = "block3_relu1")]
[Conv2D(128, 3, Padding = 1, Bias = false, Name = "block3_conv2")]
[BatchNorm2D(Name = "block3_bn2")]
[Conv2D(128, 1, Stride = 2, Input = "block2", Bias = false, Name = "block3_shortcut")]
[BatchNorm2D(Name = "block3_shortcut_bn")]
[Add("block3_bn2", Name = "block3_add")]
[ReLU(Name = "block3")]
[GlobalAvgPool2D(Name = "pool")]
[Dense(10, Name = "head")]
[Softmax]
public partial class ResNetBN { }

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

/// <summary>
/// Every layer kind in one small graph, for Verify's weights check (a file NetGen saves, loaded by TorchSharp into
/// torch.nn modules): a convolution without bias, BatchNorm with non-default ε and momentum, ReLU, a depthwise and a
/// grouped convolution, LeakyReLU, Add, Dropout, padded max and average pooling, Tanh, Sigmoid, Concat, global average
/// pooling, Dense, Softmax. TorchModel.EveryLayerModule is the same network.
/// </summary>
[Input(3, 12, 12, Name = "x")]
[Conv2D(8, 3, Padding = 1, Bias = false, Name = "conv")]
[BatchNorm2D(Epsilon = 1e-3f, Momentum = 0.2f, Name = "bn")]
[ReLU(Name = "relu")]
[Conv2D(8, 3, Padding = 1, Groups = 8, Name = "depthwise")]
[LeakyReLU(Slope = 0.1f, Name = "leaky")]
[Conv2D(8, 1, Groups = 2, Name = "grouped")]
[Add("relu", Name = "add")]
[Dropout(0.25f, Name = "dropout")]
[MaxPool2D(3, Stride = 2, Padding = 1, Name = "max_pool")]
[Tanh(Name = "tanh")]
[AvgPool2D(3, Stride = 2, Padding = 1, Input = "x", Name = "avg_pool")]
[Sigmoid(Name = "gate")]
[Concat("tanh", Name = "concat")]
[GlobalAvgPool2D(Name = "global_pool")]
[Dense(5, Name = "dense")]
[Softmax]
public partial class EveryLayerNet { }

/// <summary>
/// A regression head for the same check: convolution, BatchNorm, Tanh, average pooling, a dense layer over the 4×4×4
/// map (PyTorch's flatten order), MeanSquaredError. TorchModel.RegressionModule is the same network.
/// </summary>
[Input(2, 8, 8)]
[Conv2D(4, 3, Padding = 1, Name = "conv")]
[BatchNorm2D(Name = "bn")]
[Tanh(Name = "tanh")]
[AvgPool2D(2, Name = "pool")]
[Dense(3, Name = "head")]
[MeanSquaredError]
public partial class RegressionHeadNet { }
