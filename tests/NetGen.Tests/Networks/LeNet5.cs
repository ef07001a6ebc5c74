using NetGen;

namespace NetGen.Tests.Networks;

/// <summary>LeNet-5 for 28×28 grey images, as in the README.</summary>
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
public partial class LeNet5
{
}
