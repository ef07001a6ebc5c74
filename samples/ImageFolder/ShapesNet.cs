using NetGen;

namespace ImageFolderSample;

/// <summary>
/// A small classifier for 32×32 RGB images of up to 10 classes: two 3×3 convolutions with ReLU and 2×2 max pooling
/// (3×32×32 → 8×16×16 → 16×8×8), a hidden dense layer of 32 and one output per class. 34,522 parameters. A folder with
/// fewer classes leaves the extra outputs unused: training drives their probabilities towards 0.
/// </summary>
[Input(3, 32, 32)]
[Conv2D(8, 3, Padding = 1)]
[ReLU]
[MaxPool2D(2)]
[Conv2D(16, 3, Padding = 1)]
[ReLU]
[MaxPool2D(2)]
[Dense(32)]
[ReLU]
[Dense(10)]
[Softmax]
public partial class ShapesNet { }
