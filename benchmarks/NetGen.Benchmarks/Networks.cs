using NetGen;

namespace NetGen.Benchmarks;

// The two networks of samples/FashionMnist, declared again here (same attributes) so that the benchmarks do not
// depend on the sample. NetGen generates LeNet5.g.cs and WideNet.g.cs for them; with EmitCompilerGeneratedFiles
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
