using NetGen;

namespace NetGen.Tests.Networks;

// Networks for the ONNX export tests that no other test declares.

/// <summary>A small classifier whose last layer before the softmax is a C×1×1 average: Softmax reads it flattened.</summary>
[Input(3, 6, 6)]
[Conv2D(4, 3, Groups = 1, Bias = false)]
[BatchNorm2D(Momentum = 0.5f)]
[LeakyReLU(Slope = 0.05f)]
[MaxPool2D(2, Padding = 1)]
[GlobalAvgPool2D]
[Softmax]
public partial class PooledLogitsNet { }
