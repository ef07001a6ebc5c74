using NetGen;

namespace NetGen.Tests.Networks;

/// <summary>
/// The sample's residual network with batch normalization (samples/FashionMnist/Networks.cs, same attributes): a
/// conv-BN-ReLU stem, three basic blocks (conv-BN-ReLU-conv-BN plus the shortcut, ReLU) at 16×28×28, 64×14×14 and
/// 128×7×7 with an identity and two 1×1 stride-2 projection shortcuts with BatchNorm, global average pooling, a dense head.
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
public partial class ResNetBN
{
}
