using NetGen;

namespace NetGen.Tests.Networks;

/// <summary>
/// The sample's residual network (samples/FashionMnist/Networks.cs, same attributes): a stem, three basic blocks with an
/// identity and two 1×1 stride-2 projection shortcuts (<c>Input =</c>, <c>[Add]</c>), a dense head.
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
public partial class ResNet
{
}
