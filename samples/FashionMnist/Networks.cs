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
