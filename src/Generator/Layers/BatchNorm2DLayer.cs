using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [BatchNorm2D], named Epsilon (1e-5) and Momentum (0.1): PyTorch's BatchNorm2d. Per channel c,
/// y = γ(c) · (x − μ(c)) / √(σ²(c) + ε) + β(c), where in training μ and σ² are the mean and biased variance of the whole
/// batch passed in (over its samples, height and width), and in inference the running statistics.
/// </summary>
/// <remarks>
/// Training needs the statistics of the whole batch, which chunks on other threads hold parts of, so the layer's training
/// passes each have a batch-wide reduction (<see cref="BatchReduction"/>): forward, every chunk sums x and x² per channel,
/// and once per batch those sums give μ and 1/√(σ² + ε) and update the running statistics (PyTorch's rule: unbiased
/// variance, momentum) and the batch count; backward, every chunk sums dL/dy and dL/dy · x̂ per channel (which are also
/// dL/dβ and dL/dγ), and once per batch their means give dL/dx. Sums are in double and added in chunk order, so the
/// results do not depend on the thread count.
/// <para>
/// In inference a BatchNorm is an affine map per channel, y = s·x + (β − μ·s) with s = γ / √(σ² + ε), so after a convolution
/// whose output it alone reads it is folded into that convolution (<see cref="FoldInto"/>): the inference passes run the
/// convolution, with a bias, over W'(k, …) = W(k, …)·s(k) and b'(k) = β(k) + (b(k) − μ(k))·s(k), straight into this layer's
/// output, and skip this layer. The network recomputes W' and b' (<see cref="EmitFold"/>) before an inference pass only when
/// the parameters or running statistics may have changed.
/// </para>
/// </remarks>
internal sealed record BatchNorm2DLayer(float Epsilon, float Momentum) : Layer
{
    public const string AttributeName = "NetGen.BatchNorm2DAttribute";

    public static Layer Parse(AttributeArguments a) => new BatchNorm2DLayer(a.NamedSingle("Epsilon") ?? 1e-5f, a.NamedSingle("Momentum") ?? 0.1f);

    public override string Kind => "BatchNorm2D";

    public override string DefaultNamePrefix => "bn";

    public override bool ValidateArguments(LayerContext layer)
    {
        bool valid = true;
        if (!(Epsilon > 0f) || float.IsInfinity(Epsilon))
        {
            layer.Report(Diagnostics.InvalidArgument, "Epsilon", "positive and finite", Literal.Float(Epsilon).TrimEnd('f'));
            valid = false;
        }

        if (!(Momentum >= 0f && Momentum <= 1f))
        {
            layer.Report(Diagnostics.InvalidArgument, "Momentum", "from 0 to 1", Literal.Float(Momentum).TrimEnd('f'));
            valid = false;
        }

        return valid;
    }

    public override Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext layer) => inputs[0];

    public override IReadOnlyList<ParameterTensor> GetParameters(Shape input, Shape output) =>
    [
        new(TensorRole.Weight, new[] { input.Channels }.ToEquatableArray(), 0, Fill: 1f),
        new(TensorRole.Bias, new[] { input.Channels }.ToEquatableArray(), 0),
    ];

    public override IReadOnlyList<StateTensor> GetState(Shape input, Shape output) =>
    [
        new(TensorRole.RunningMean, new[] { input.Channels }.ToEquatableArray(), 0f),
        new(TensorRole.RunningVar, new[] { input.Channels }.ToEquatableArray(), 1f),
        new(TensorRole.BatchesTracked, EquatableArray<int>.Empty, 0f),
    ];

    private static ScratchBuffer Sums(Shape input) =>
        new("sums", "double", 2L * input.Channels, "Σ x and Σ x² per channel over a chunk's samples; the batch's once summed", PerSample: false);

    private static ScratchBuffer Batch(Shape input) =>
        new("batch", "float", 2L * input.Channels, "the batch's mean and 1 / √(variance + ε) per channel", PerSample: false);

    private static ScratchBuffer GradientSums(Shape input) =>
        new("gradientSums", "double", 2L * input.Channels, "Σ dL/dy and Σ dL/dy · x̂ per channel over a chunk's samples; the batch's once summed", PerSample: false);

    private static ScratchBuffer GradientMeans(Shape input) =>
        new("gradientMeans", "float", 2L * input.Channels, "the batch's mean of dL/dy and of dL/dy · x̂ per channel", PerSample: false);

    private static ScratchBuffer Plane(Shape input) =>
        new("plane", "float", (long)input.Height * input.Width, "one plane of x minus a mean, for the sums", PerSample: false);

    public override IReadOnlyList<ScratchBuffer> GetScratchBuffers(Shape input, Shape output) =>
        [Sums(input), Batch(input), GradientSums(input), GradientMeans(input), Plane(input)];

    public override IReadOnlyList<BatchReduction> GetReductions(LayerPlan plan)
    {
        Shape input = plan.Input;
        return
        [
            new("Statistics", Forward: true, Sums(input), Batch(input),
                new[] { Operand.X, Operand.Of(Sums(input)), Operand.Of(Plane(input)) }.ToEquatableArray(),
                new[]
                {
                    Operand.Of(Sums(input)), Operand.Of(Batch(input)),
                    Operand.State(TensorRole.RunningMean), Operand.State(TensorRole.RunningVar), Operand.State(TensorRole.BatchesTracked),
                }.ToEquatableArray()),
            new("GradientStatistics", Forward: false, GradientSums(input), GradientMeans(input),
                new[]
                {
                    Operand.X, Operand.Dy, Operand.Of(Batch(input)), Operand.Of(GradientSums(input)), Operand.Of(Plane(input)),
                    Operand.WeightGradient, Operand.BiasGradient,
                }.ToEquatableArray(),
                new[] { Operand.Of(GradientSums(input)), Operand.Of(GradientMeans(input)) }.ToEquatableArray()),
        ];
    }

    /// <summary>PyTorch's rule: a training batch needs more than one value per channel, so two samples of a 1×1 output.</summary>
    public override int MinimumTrainingBatch(LayerPlan plan) => plan.Input.Height * plan.Input.Width > 1 ? 1 : 2;

    public override IReadOnlyList<Operand> ForwardOperands(LayerPlan plan) =>
    [
        Operand.X, Operand.Weight, Operand.Bias, Operand.Y, Operand.Training, Operand.Of(Batch(plan.Input)),
        Operand.State(TensorRole.RunningMean), Operand.State(TensorRole.RunningVar),
    ];

    public override IReadOnlyList<Operand> BackwardOperands(LayerPlan plan) =>
        [Operand.X, Operand.Dy, Operand.Weight, Operand.Of(Batch(plan.Input)), Operand.Of(GradientMeans(plan.Input)), Operand.Dx, Operand.ComputeDx];

    /// <summary>Both passes sweep each plane in vectors (<c>Normalization</c>), the same bits at every width.</summary>
    public override bool IsVectorized(bool forward) => true;

    public override string Describe(LayerPlan plan) => $"ε {Literal.Float(Epsilon).TrimEnd('f')}, momentum {Literal.Float(Momentum).TrimEnd('f')}";

    /// <summary>
    /// BatchNormalization in its inference form (the running statistics): scale γ, B β, input_mean and input_var the running
    /// statistics. ONNX's momentum weighs the old running value, PyTorch's the batch's: 1 − Momentum, as PyTorch exports it.
    /// </summary>
    public override IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan) =>
    [
        new("BatchNormalization", OnnxRank.Any,
            [Operand.X, Operand.Weight, Operand.Bias, Operand.State(TensorRole.RunningMean), Operand.State(TensorRole.RunningVar)],
            OnnxAttribute.Float("epsilon", Epsilon), OnnxAttribute.Float("momentum", 1f - Momentum)),
    ];

    public override string ForwardFormula(LayerPlan plan) =>
        "y(c,i,j) = γ(c) · (x(c,i,j) − μ(c)) / √(σ²(c) + ε) + β(c)\n" +
        "training: μ, σ² the batch's mean and biased variance over n, i, j (see Statistics); inference: the running statistics";

    public override string BackwardFormula(LayerPlan plan) =>
        "x̂ = (x − μ) / √(σ² + ε);  dL/dγ(c) += Σ dL/dy · x̂;  dL/dβ(c) += Σ dL/dy   (over the batch's n, i, j: GradientStatistics)\n" +
        "dL/dx = γ / √(σ² + ε) · (dL/dy − mean(dL/dy) − x̂ · mean(dL/dy · x̂))";

    public override void EmitForward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input;
        int channels = input.Channels, plane = input.Height * input.Width;
        w.Line($"for (int c = 0; c < {channels}; c++)");
        w.Open();
        w.Line($"// training: the batch's mean and 1 / √(σ² + ε); inference: the running statistics'");
        w.Line($"float mean = training ? batch[c] : runningMean[c];");
        w.Line($"float scale = weight[c] * (training ? batch[{channels} + c] : 1f / MathF.Sqrt(runningVar[c] + {Literal.Float(Epsilon)}));");
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"int at = s * {input.Length} + c * {plane};");
        w.Line($"Normalization.Normalize<TVector>(x.Slice(at, {plane}), mean, scale, bias[c], y.Slice(at, {plane})); // ((x − μ) · scale) + β");
        w.Close();
        w.Close();
    }

    public override void EmitBackward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input;
        int channels = input.Channels, plane = input.Height * input.Width;
        EmitExitWithoutInputGradient(w, note: " (dL/dγ and dL/dβ are done)");
        w.Line();
        w.Line($"for (int c = 0; c < {channels}; c++)");
        w.Open();
        w.Line($"// dL/dx = k · dL/dy − k · mean(dL/dy) − k · invStd · mean(dL/dy · x̂) · (x − μ), k = γ · invStd");
        w.Line($"float mean = batch[c], invStd = batch[{channels} + c], k = weight[c] * invStd;");
        w.Line($"float shift = -k * gradientMeans[c], slope = -k * invStd * gradientMeans[{channels} + c];");
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"int at = s * {input.Length} + c * {plane};");
        w.Line($"// (dL/dy · k) + (((x − μ) · slope) + shift)");
        w.Line($"Normalization.InputGradient<TVector>(x.Slice(at, {plane}), mean, slope, shift, dy.Slice(at, {plane}), k, dx.Slice(at, {plane}));");
        w.Close();
        w.Close();
    }

    /// <summary>After a convolution (its only reader): the convolution with a bias, whose weight and bias <see cref="EmitFold"/> computes.</summary>
    public override Layer? FoldInto(Layer previous) => previous is Conv2DLayer convolution ? convolution with { HasBias = true } : null;

    public override string FoldFormula(LayerPlan plan, LayerPlan into) =>
        $"inference, with the BatchNorm after it folded in: W'(k,…) = W(k,…) · s(k), b'(k) = β(k) + ({(into.Parameter(TensorRole.Bias) is null ? "0" : "b(k)")} − μ(k)) · s(k), " +
        $"s(k) = γ(k) / √(running_var(k) + ε), ε = {Literal.Float(Epsilon).TrimEnd('f')}, μ = running_mean" +
        (into.Parameter(TensorRole.Bias) is null ? " (the convolution has no bias: b = 0)" : "");

    /// <summary>
    /// The fold: per channel k, s = γ(k) / √(running_var(k) + ε) and the bias β(k) + (b(k) − μ(k))·s in double, then every
    /// weight of filter k (a contiguous block in PyTorch's layout) times s in float, one vectorized pass per filter.
    /// </summary>
    public override void EmitFold(SourceWriter w, LayerPlan plan, LayerPlan into)
    {
        int channels = plan.Input.Channels, taps = into.Parameter(TensorRole.Weight)!.Tensor.Length / channels;
        bool bias = into.Parameter(TensorRole.Bias) is not null;
        w.Line($"for (int k = 0; k < {channels}; k++)");
        w.Open();
        w.Line($"// s(k) = γ(k) / √(running_var(k) + ε) and b'(k) = β(k) + ({(bias ? "b(k)" : "0")} − μ(k)) · s(k), in double");
        w.Line($"double s = normWeight[k] / Math.Sqrt(runningVar[k] + (double){Literal.Float(Epsilon)});");
        w.Line($"foldedBias[k] = (float)(normBias[k] + ({(bias ? "(double)bias[k]" : "0.0")} - runningMean[k]) * s);");
        w.Line($"// W'(k,…) = W(k,…) · s(k): filter k's {taps} weights");
        w.Line($"TensorPrimitives.Multiply(weight.Slice(k * {taps}, {taps}), (float)s, foldedWeight.Slice(k * {taps}, {taps}));");
        w.Close();
    }

    public override void EmitReduction(SourceWriter w, LayerPlan plan, BatchReduction reduction)
    {
        Shape input = plan.Input;
        int channels = input.Channels, plane = input.Height * input.Width;
        bool forward = reduction.Forward;
        string partial = forward ? "sums" : "gradientSums";
        w.Line($"{partial}.Slice(0, {2 * channels}).Clear();");
        w.Line($"for (int c = 0; c < {channels}; c++)");
        w.Open();
        if (!forward)
        {
            w.Line($"float mean = batch[c];");
        }

        w.Line($"double first = 0, second = 0;");
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"int at = s * {input.Length} + c * {plane};");
        w.Line($"Span<float> centered = plane.Slice(0, {plane});");
        if (forward)
        {
            w.Line($"// Σ x and Σ x² of this plane, the latter as Σ (x − m)² + n·m² around the plane's own mean m, so that the float sum");
            w.Line($"// of squares is of centered values (accurate) and only the plane totals are added, in double.");
            w.Line($"ReadOnlySpan<float> xs = x.Slice(at, {plane});");
            w.Line($"float sum = TensorPrimitives.Sum(xs), m = sum / {plane};");
            w.Line($"TensorPrimitives.Subtract(xs, m, centered);");
            w.Line($"first += sum;");
            w.Line($"second += TensorPrimitives.SumOfSquares(centered) + (double){plane} * m * m;");
        }
        else
        {
            w.Line($"ReadOnlySpan<float> dys = dy.Slice(at, {plane});");
            w.Line($"TensorPrimitives.Subtract(x.Slice(at, {plane}), mean, centered);");
            w.Line($"first += TensorPrimitives.Sum(dys);");
            w.Line($"second += TensorPrimitives.Dot(dys, centered);");
        }

        w.Close();
        w.Line();
        if (forward)
        {
            w.Line($"sums[c] = first;");
            w.Line($"sums[{channels} + c] = second;");
        }
        else
        {
            w.Line($"second *= batch[{channels} + c]; // Σ dL/dy · x̂ = Σ dL/dy · (x − μ) / √(σ² + ε)");
            w.Line($"gradientSums[c] = first;");
            w.Line($"gradientSums[{channels} + c] = second;");
            w.Line($"biasGradient[c] += (float)first;");
            w.Line($"weightGradient[c] += (float)second;");
        }

        w.Close();
    }

    public override void EmitFinish(SourceWriter w, LayerPlan plan, BatchReduction reduction)
    {
        Shape input = plan.Input;
        int channels = input.Channels, plane = input.Height * input.Width;
        w.Line($"long values = (long)count * {plane}; // per channel: the batch's samples × height × width (at least 2: MinimumTrainingBatch)");
        if (reduction.Forward)
        {
            w.Line($"for (int c = 0; c < {channels}; c++)");
            w.Open();
            w.Line($"double mean = sums[c] / values, variance = Math.Max(sums[{channels} + c] / values - mean * mean, 0);");
            w.Line($"batch[c] = (float)mean;");
            w.Line($"batch[{channels} + c] = (float)(1 / Math.Sqrt(variance + {Literal.Float(Epsilon)}));");
            w.Line($"// PyTorch's running statistics: momentum {Literal.Float(Momentum).TrimEnd('f')}, the unbiased variance");
            w.Line($"runningMean[c] = (float)((1 - {Literal.Float(Momentum)}) * runningMean[c] + {Literal.Float(Momentum)} * mean);");
            w.Line($"runningVar[c] = (float)((1 - {Literal.Float(Momentum)}) * runningVar[c] + {Literal.Float(Momentum)} * variance * values / (values - 1));");
            w.Close();
            w.Line();
            w.Line($"batchesTracked[0]++;");
        }
        else
        {
            w.Line($"for (int c = 0; c < {channels}; c++)");
            w.Open();
            w.Line($"gradientMeans[c] = (float)(gradientSums[c] / values);");
            w.Line($"gradientMeans[{channels} + c] = (float)(gradientSums[{channels} + c] / values);");
            w.Close();
        }
    }
}
