using System;
using System.Collections.Generic;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>Every layer kind, by its attribute's metadata name. Adding a kind: one file in this folder and one line here.</summary>
internal static class LayerCatalog
{
    /// <summary>The base class of every layer attribute; a subclass not listed below is not a layer NetGen can compile.</summary>
    public const string BaseAttributeName = "NetGen.LayerAttribute";

    public static readonly IReadOnlyDictionary<string, Func<AttributeArguments, Layer>> ByAttribute =
        new Dictionary<string, Func<AttributeArguments, Layer>>
        {
            [InputLayer.AttributeName] = InputLayer.Parse,
            [Conv2DLayer.AttributeName] = Conv2DLayer.Parse,
            [MaxPool2DLayer.AttributeName] = MaxPool2DLayer.Parse,
            [DenseLayer.AttributeName] = DenseLayer.Parse,
            [ReLULayer.AttributeName] = ReLULayer.Parse,
            [SoftmaxLayer.AttributeName] = SoftmaxLayer.Parse,
            [AddLayer.AttributeName] = AddLayer.Parse,
            [ConcatLayer.AttributeName] = ConcatLayer.Parse,
            [BatchNorm2DLayer.AttributeName] = BatchNorm2DLayer.Parse,
            [DropoutLayer.AttributeName] = DropoutLayer.Parse,
            [MeanSquaredErrorLayer.AttributeName] = MeanSquaredErrorLayer.Parse,
            [AvgPool2DLayer.AttributeName] = AvgPool2DLayer.Parse,
            [GlobalAvgPool2DLayer.AttributeName] = GlobalAvgPool2DLayer.Parse,
            [TanhLayer.AttributeName] = TanhLayer.Parse,
            [SigmoidLayer.AttributeName] = SigmoidLayer.Parse,
            [LeakyReLULayer.AttributeName] = LeakyReLULayer.Parse,
        };
}
