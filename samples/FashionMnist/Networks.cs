using NetGen;

namespace FashionMnist;

/// <summary>LeNet-5 (LeCun et al., 1998) with ReLU and max pooling, for 28×28 grey images.</summary>
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

/// <summary>
/// The network of TensorFlow's layers tutorial: conv 32@5×5 pad 2 → pool 2 → conv 64@5×5 pad 2 → pool 2 →
/// dense 1024 → dense 10. About 3.3 million parameters.
/// </summary>
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
/// A small residual network (He et al., 2015) without batch normalization: a 3×3 stem, then three basic blocks
/// (conv-ReLU-conv plus a shortcut, then ReLU) at 16×28×28, 32×14×14 and 64×7×7. The first block's shortcut is the
/// identity; the other two halve height and width with a stride-2 first convolution and a 1×1 stride-2 projection
/// shortcut that reads the previous block's output (<c>Input = "block1"</c>). A dense layer over the 64×7×7 features
/// classifies. About 108,000 parameters and 9.4 million multiply-adds per image.
/// </summary>
[Input(1, 28, 28)]
[Conv2D(16, 3, Padding = 1, Name = "stem")]
[ReLU(Name = "stem_relu")]
[Conv2D(16, 3, Padding = 1, Name = "block1_conv1")]
[ReLU(Name = "block1_relu1")]
[Conv2D(16, 3, Padding = 1, Name = "block1_conv2")]
[Add("stem_relu", Name = "block1_add")]                                      // identity shortcut
[ReLU(Name = "block1")]
[Conv2D(32, 3, Stride = 2, Padding = 1, Name = "block2_conv1")]
[ReLU(Name = "block2_relu1")]
[Conv2D(32, 3, Padding = 1, Name = "block2_conv2")]
[Conv2D(32, 1, Stride = 2, Input = "block1", Name = "block2_shortcut")]     // projection of block1's output
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
/// A residual network with batch normalization (He et al., 2015, with the projection shortcuts of their option B): a 3×3
/// stem (conv-BN-ReLU) at 16×28×28, then three stages of one basic block each (conv-BN-ReLU-conv-BN plus the shortcut,
/// then ReLU) at 16×28×28, 64×14×14 and 128×7×7, global average pooling and a dense classifier. The first block's
/// shortcut is the identity; the other two halve height and width with a stride-2 first convolution and a 1×1 stride-2
/// convolution plus BatchNorm as shortcut. The width goes where the maps are small: the 7×7 stage holds three quarters
/// of the parameters and under half of the multiply-adds. About 284,000 parameters and 24 million multiply-adds per image.
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
[Add("stem_relu", Name = "block1_add")]                                      // identity shortcut
[ReLU(Name = "block1")]
[Conv2D(64, 3, Stride = 2, Padding = 1, Bias = false, Name = "block2_conv1")]
[BatchNorm2D(Name = "block2_bn1")]
[ReLU(Name = "block2_relu1")]
[Conv2D(64, 3, Padding = 1, Bias = false, Name = "block2_conv2")]
[BatchNorm2D(Name = "block2_bn2")]
[Conv2D(64, 1, Stride = 2, Input = "block1", Bias = false, Name = "block2_shortcut")]  // projection of block1's output
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
