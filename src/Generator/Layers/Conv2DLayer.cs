using System;
using System.Linq;
using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [Conv2D(filters, kernelSize)] / [Conv2D(filters, kernelHeight, kernelWidth)], Stride, Padding, Groups, Bias: a 2-D
/// cross-correlation with zero padding, as PyTorch's Conv2d.
/// </summary>
/// <remarks>
/// Computed as an unfold (im2col) followed by a matrix product, Caffe's classic scheme: the input is copied
/// into <c>columns</c>, one row per (input channel, kernel tap) and one column per output pixel, with every
/// offset and range of the copy computed here at compile time (with stride 1 or 2, whole rows from a zero-padded copy
/// of the sample, with stride 2 every other float of them; with a larger stride, only the taps inside the input, the
/// others staying zero). Then <c>y = W · columns</c> is one blocked product. Where its <see cref="Strategy"/> says so,
/// the forward pass skips the unfold and reads each tap's rows straight from the (padded) input
/// (<c>Convolution.Forward</c>, the same sums in the same order), or from a copy of the input compacted to output-row
/// width (<c>Convolution.ForwardCompacted</c>, the same bits again). The backward pass computes dL/dW either straight from
/// every sample's padded or compacted input (<c>Convolution.WeightGradient</c>, few filters) or as a product over the
/// unfold made again (or the forward pass's <c>columns</c> for the last sample); and dL/dx either as the forward kernel
/// over dL/dy in zero-bordered planes with the weight turned (a size-keeping stride-1 convolution) or by folding
/// wᵀ · dL/dy back (col2im; with stride 1 each row of dL/dx is summed in registers and stored once, with stride 2 each
/// row of a padded dL/dx, <c>Convolution.FoldStride2</c>).
/// <para>
/// With <see cref="Groups"/> above 1 each group is a convolution of its own over its slices: group g reads input channels
/// g·in/G …, its weights are the contiguous block of filters g·out/G …, and it writes those filters' planes. The unfold
/// holds every channel, so the products run group after group over its row blocks; the direct kernels take the group's
/// channels. A depthwise convolution (one input channel per group) with stride 1 or 2 runs the depthwise kernels instead
/// (<c>DepthwiseConvolution</c>): the forward pass, dL/dw, and dL/dx as the same forward kernel over dL/dy spread (by the
/// stride) into zero-bordered planes, with each kernel turned by 180°. Without <see cref="HasBias"/> there is no bias
/// tensor and every sum starts at zero.
/// </para>
/// </remarks>
internal sealed partial record Conv2DLayer(int Filters, int KernelHeight, int KernelWidth, int Stride, int Padding) : Layer
{
    public const string AttributeName = "NetGen.Conv2DAttribute";

    public static Layer Parse(AttributeArguments a)
    {
        int filters = a.Constructor(0);
        int kh = a.Constructor(1);
        int kw = a.ConstructorCount > 2 ? a.Constructor(2) : kh;
        return new Conv2DLayer(filters, kh, kw, a.Named("Stride") ?? 1, a.Named("Padding") ?? 0)
        {
            Groups = a.Named("Groups") ?? 1,
            HasBias = a.NamedBoolean("Bias") ?? true,
        };
    }

    /// <summary>Groups of input channels and filters (PyTorch's <c>groups</c>): filter k reads only the channels of group ⌊k / (filters/groups)⌋.</summary>
    public int Groups { get; init; } = 1;

    /// <summary>Whether the layer has a bias tensor (PyTorch's <c>bias</c>, the attribute's <c>Bias</c>).</summary>
    public bool HasBias { get; init; } = true;

    /// <summary>The plan: how the passes compute, chosen from the shapes (see <see cref="ConvolutionStrategy.ChooseGrouped"/>).</summary>
    public ConvolutionStrategy Strategy { get; init; }

    /// <summary>
    /// In a fold's form only (<see cref="InferenceFold.Layer"/>): whether each output, as it is stored, gets the same element
    /// of the <c>residual</c> operand added (the [Add] after the layer, folded in).
    /// </summary>
    public bool AddsResidual { get; init; }

    /// <summary>In a fold's form only: whether each output, as it is stored (after the residual), becomes max(·, 0) (the [ReLU] after the layer, folded in).</summary>
    public bool Rectifies { get; init; }

    /// <summary>
    /// Whether the training passes' forward pass is the Winograd form's (a network that does not train in stages): this
    /// layer's own forward pass is never emitted, so the buffers and helpers only it used are left out.
    /// </summary>
    public bool FormRunsForward { get; init; }

    public override Layer WithForwardByForm() => this with { FormRunsForward = true };

    private bool HasEpilogue => AddsResidual || Rectifies;

    /// <summary>
    /// The form that also does <paramref name="step"/> on each output as its register tile stores it: the residual first, then
    /// the ReLU, at most one of each, and not in the depthwise kernels.
    /// </summary>
    public override Layer? WithOutputStep(OutputStep step) =>
        Strategy.ConvolvesDepthwise || Rectifies ? null
        : step == OutputStep.Rectify ? this with { Rectifies = true }
        : step == OutputStep.AddResidual && !AddsResidual ? this with { AddsResidual = true }
        : null;

    /// <summary>
    /// The kernels' <c>Epilogue</c> for the outputs from <paramref name="offset"/> (an expression, floats into y) on: the residual
    /// at the same offset and the ReLU; <c>Epilogue.None</c> without either.
    /// </summary>
    private string EpilogueAt(string offset) =>
        AddsResidual ? $"new Epilogue(ref MemoryMarshal.GetReference(residual.Slice({offset})), rectifies: {(Rectifies ? "true" : "false")})"
        : Rectifies ? "Epilogue.Rectify"
        : "Epilogue.None";

    /// <summary>The last argument of a kernel call with the epilogue, or nothing without one.</summary>
    private string EpilogueArgument(string offset) => HasEpilogue ? $", epilogue: {EpilogueAt(offset)}" : "";

    /// <summary>The comment over a kernel call with an epilogue: what each output goes through as it is stored.</summary>
    private void EmitEpilogueComment(SourceWriter w)
    {
        if (HasEpilogue)
        {
            w.Line($"// Each output is stored as {EpilogueFormula("y", "residual")}: the layers after this one, folded in.");
        }
    }

    /// <summary>max(y + r, 0), y + r or max(y, 0): the epilogue over the sum <paramref name="y"/>.</summary>
    private string EpilogueFormula(string y, string residual)
    {
        string sum = AddsResidual ? $"{y} + {residual}" : y;
        return Rectifies ? $"max({sum}, 0)" : sum;
    }

    public override string Kind => "Conv2D";

    public override string DefaultNamePrefix => "conv";

    public override long MultiplyAdds(LayerPlan plan) => MultiplyAdds(plan.Input, plan.Output);

    /// <summary>Multiply-adds per sample: every output times its filter's taps.</summary>
    private long MultiplyAdds(Shape input, Shape output) => (long)Filters * (input.Channels / Groups) * KernelHeight * KernelWidth * output.Height * output.Width;

    public override bool ValidateArguments(LayerContext layer) =>
        Check.Positive(layer, "filters", Filters)
        & Check.Positive(layer, "kernel height", KernelHeight)
        & Check.Positive(layer, "kernel width", KernelWidth)
        & Check.Positive(layer, "stride", Stride)
        & Check.NotNegative(layer, "padding", Padding)
        & Check.Positive(layer, "groups", Groups)
        && Check.UnrolledTaps(layer, "kernel", KernelHeight, KernelWidth);

    public override Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext layer)
    {
        Shape input = inputs[0];
        if (input.Channels % Groups != 0 || Filters % Groups != 0)
        {
            layer.Report(Diagnostics.ChannelsNotDivisibleByGroups, input.Channels, Filters, Groups);
            return null;
        }

        long paddedHeight = input.Height + 2L * Padding, paddedWidth = input.Width + 2L * Padding;
        if (KernelHeight > paddedHeight || KernelWidth > paddedWidth)
        {
            string padded = Padding == 0 ? "" : $" (padded to {paddedHeight}×{paddedWidth})";
            layer.Report(Diagnostics.WindowLargerThanInput, "kernel", KernelHeight, KernelWidth, input.ToFullString(), padded);
            return null;
        }

        long outHeight = (paddedHeight - KernelHeight) / Stride + 1, outWidth = (paddedWidth - KernelWidth) / Stride + 1;
        long rows = (long)input.Channels * KernelHeight * KernelWidth;
        if (!Check.Fits(layer, "its output", Filters * outHeight * outWidth)
            | !Check.Fits(layer, "its weight", Filters * rows / Groups)
            | !Check.Fits(layer, "its unfolded input (im2col)", rows * outHeight * outWidth))
        {
            return null;
        }

        // A depthwise plan spreads dL/dy into zero-bordered planes (see SpreadSize) instead of unfolding.
        if (Groups > 1 && Groups == input.Channels
            && !Check.Fits(layer, "its spread dL/dy", Filters
                * SpreadExtent(outHeight, KernelHeight, input.Height) * SpreadExtent(outWidth, KernelWidth, input.Width)))
        {
            return null;
        }

        return new Shape(Filters, (int)outHeight, (int)outWidth);
    }

    public override Layer Plan(IReadOnlyList<Shape> inputs, Shape output) =>
        this with { Strategy = ConvolutionStrategy.ChooseGrouped(inputs[0].Channels, Filters, Groups, KernelHeight, KernelWidth, Stride, Padding, output.Height, output.Width) };

    /// <summary>Weight [filters, in/groups, kh, kw] (fan-in: one filter's taps), then bias [filters] unless the layer has none.</summary>
    public override IReadOnlyList<ParameterTensor> GetParameters(Shape input, Shape output) =>
    [
        new(TensorRole.Weight, new[] { Filters, GroupChannels(input), KernelHeight, KernelWidth }.ToEquatableArray(), GroupRows(input)),
        .. HasBias ? new ParameterTensor[] { new(TensorRole.Bias, new[] { Filters }.ToEquatableArray(), 0) } : [],
        .. PreparedWeight(input) is { } prepared ? new[] { prepared } : [],
    ];

    public override IReadOnlyList<ScratchBuffer> GetScratchBuffers(Shape input, Shape output) =>
        Strategy.Winograd ? WinogradBuffers(input, output)
        : Strategy.ConvolvesDepthwise
        ?
        [
            .. PadsInput ? new[] { Padded(input) } : [],
            SpreadGradient(input, output),
            FlippedWeight(input),
        ]
        :
        [
            .. UsesColumns ? new[] { Columns(input, output) } : [],
            .. UsesProducts ? new[] { Products(input, output) } : [],
            .. Strategy.DirectInputGradient ? InputGradientBuffers(input, output) : [ColumnsGradient(input, output)],
            .. UsesPadded ? new[] { Padded(input) } : [],
            .. TransposesWeightGradient ? new[] { OutputGradientT(input, output), WeightGradientT(input) } : [],
            .. Strategy.WinogradWeightGradient ? WinogradWeightGradientBuffers(input, output) : [],
            .. CopiesGradientInputs ? new[] { GradientInputs(input, output) } : [],
            .. FoldsEvenOdd ? new[] { PaddedGradient(input) } : [],
            .. UsesZeros ? new[] { ZeroBias(input) } : [],
        ];

    /// <summary>With stride 2, dL/dx is folded by <c>Convolution.FoldStride2</c> into zero-padded planes whose inside is then copied out.</summary>
    private bool FoldsEvenOdd => Stride == 2 && !Strategy.ConvolvesDepthwise;

    private ScratchBuffer PaddedGradient(Shape input) =>
        new("paddedGradient", "float", (long)input.Channels * (input.Height + 2 * Padding) * (input.Width + 2 * Padding),
            $"one sample's dL/dx with its padding, {input.Channels}×{input.Height + 2 * Padding}×{input.Width + 2 * Padding}: the stride-2 fold writes every float, and the inside is dL/dx",
            PerSample: false);

    /// <summary>
    /// What a direct dL/dx uses: the turned weight, dL/dy's zero-bordered planes and, if that kernel compacts, its copy; by
    /// Winograd, the turned weight's transform (made straight from the weight) and the form's three workspaces.
    /// </summary>
    private ScratchBuffer[] InputGradientBuffers(Shape input, Shape output) => Strategy.WinogradInputGradient
        ? WinogradInputGradientBuffers(input, output)
        :
        [
            FlippedWeight(input),
            SpreadGradient(input, output),
            .. Strategy.CompactsInputGradient ? new[] { CompactedGradient(input) } : [],
        ];

    /// <summary>The copy <c>Convolution.ForwardCompacted</c> makes of one group's spread dL/dy for a direct dL/dx.</summary>
    private ScratchBuffer CompactedGradient(Shape input) =>
        new("compactedGradient", "float", (long)GroupFilters * KernelWidth * CompactedHeight(input) * input.Width * InputGradientSamples,
            $"dL/dy's spread planes compacted for dL/dx, {GroupFilters * KernelWidth} planes (filter, kernel column) × {(InputGradientSamples > 1 ? $"{InputGradientSamples} samples × " : "")}{CompactedHeight(input)}×{input.Width}{(Groups > 1 ? ", one group's" : "")}",
            PerSample: false, Samples: InputGradientSamples);

    /// <summary>Samples a direct dL/dx computes at once (see <see cref="ConvolutionStrategy.CompactedInputGradientSamples"/>).</summary>
    private int InputGradientSamples => Strategy.CompactedInputGradientSamples;

    /// <summary>
    /// Floats per output channel of <c>Convolution.ForwardCompactedSamples</c>'s products over <paramref name="samples"/> samples
    /// of <paramref name="plane"/> (each sample's compacted rows one after another): the first one's first pixel to the last
    /// one's last.
    /// </summary>
    private long CompactedSpan(Shape plane, int samples) => (long)(samples - 1) * CompactedHeight(plane) * plane.Width + (long)plane.Height * plane.Width;

    /// <summary>Whether the products buffer is used: several samples per forward product or compacted copy (by this layer's own forward pass, or the backward pass's products), or per direct dL/dx.</summary>
    private bool UsesProducts => (Batched > 1 && (!FormRunsForward || MultipliesSamplesBackward)) || InputGradientSamples > 1;

    /// <summary>Whether a kernel needs a run of zeros to start its sums at: the direct forward pass without a bias, a direct dL/dx.</summary>
    private bool UsesZeros => UsesZeroBias || Strategy.DirectInputGradient;

    /// <summary>Whether a pass unfolds into <c>columns</c> (<see cref="EmitsUnfold"/>) or this layer's own forward pass compacts into it.</summary>
    private bool UsesColumns => EmitsUnfold || (!FormRunsForward && Strategy.Compacts);

    /// <summary>Whether the backward pass unfolds the samples: its dL/dw is a product over the unfolded input.</summary>
    private bool BackwardUnfolds => !Strategy.DirectWeightGradient && !Strategy.WinogradWeightGradient;

    /// <summary>Whether the zero-padded copy is used: by this layer's own forward pass, or by the backward pass's unfold or compaction.</summary>
    private bool UsesPadded => PadsInput && (!FormRunsForward || BackwardUnfolds || Strategy.CompactsWeightGradient);

    /// <summary>Whether the padding helper is used: where the padded copy is, or by the direct dL/dw's copies of the samples.</summary>
    private bool EmitsPad => UsesPadded || (PadsInput && CopiesGradientInputs);

    /// <summary>Whether dL/dw is a product over the unfolded input into a transposed buffer.</summary>
    private bool TransposesWeightGradient => Strategy.TransposesWeightGradient && !Strategy.DirectWeightGradient && !Strategy.WinogradWeightGradient;

    /// <summary>Whether the direct dL/dw reads copies of the samples (padded or compacted) rather than x itself.</summary>
    private bool CopiesGradientInputs => Strategy.DirectWeightGradient && (PadsInput || Strategy.CompactsWeightGradient);

    /// <summary>The floats of one sample's copy for the direct dL/dw: its compacted planes, or its zero-padded copy.</summary>
    private long GradientInputLength(Shape input, Shape output) => Strategy.CompactsWeightGradient
        ? (long)input.Channels * KernelWidth * CompactedHeight(output) * output.Width
        : (long)input.Channels * (input.Height + 2 * Padding) * (input.Width + 2 * Padding);

    private ScratchBuffer GradientInputs(Shape input, Shape output) =>
        new("gradientInputs", "float", GradientInputLength(input, output),
            Strategy.CompactsWeightGradient
                ? $"each sample's input compacted for dL/dw, {input.Channels * KernelWidth} planes (input channel, kernel column) × {CompactedHeight(output)}×{output.Width}"
                : $"each sample's input with its zero padding for dL/dw, {input.Channels}×{input.Height + 2 * Padding}×{input.Width + 2 * Padding}; the border is never written",
            PerSample: true);

    private ScratchBuffer Columns(Shape input, Shape output) =>
        new("columns", "float", Math.Max((long)Rows(input) * Pixels(output) * SamplesPerProduct, CompactedLength(input, output) * CompactedSamples),
            (SamplesPerProduct > 1
                ? $"the unfolded input (im2col) of samples side by side, {Rows(input)} rows (input channel, kernel tap) × {SamplesPerProduct}·{Pixels(output)} columns (sample, output pixel); of one sample in the backward pass"
                : $"the unfolded input (im2col) of one sample, {Rows(input)} rows (input channel, kernel tap) × {Pixels(output)} columns (output pixel)")
            + (Strategy.Compacts ? $"; in the forward pass, the compacted copy of the input ({GroupChannels(input) * KernelWidth} planes (input channel, kernel column) × {(CompactedSamples > 1 ? $"{CompactedSamples} samples × " : "")}{CompactedHeight(output)}×{output.Width}{(Groups > 1 ? ", one group's" : "")})" : ""),
            PerSample: false, Samples: Batched);

    /// <summary>Floats of one sample's compacted copy (one group's).</summary>
    private long CompactedLength(Shape input, Shape output) => Strategy.Compacts ? (long)GroupChannels(input) * KernelWidth * CompactedHeight(output) * output.Width : 0;

    /// <summary>Samples the compacting forward pass takes at once (see <see cref="ConvolutionStrategy.CompactedSamples"/>).</summary>
    private int CompactedSamples => Strategy.CompactedSamples;

    /// <summary>Samples a forward pass takes at once, unfolded or compacted.</summary>
    private int Batched => Math.Max(SamplesPerProduct, CompactedSamples);


    private ScratchBuffer ColumnsGradient(Shape input, Shape output) =>
        new("columnsGradient", "float", (long)Rows(input) * Pixels(output) * BackwardSamples, "dL/dcolumns, same layout", PerSample: false, Samples: BackwardSamples);

    /// <summary>
    /// Whether the backward pass multiplies <see cref="SamplesPerProduct"/> samples at once too, as the forward pass does: their
    /// columns side by side in dL/dwᵀ's product and in dL/dcolumns', each sample's columns then folded (stride 2) from there.
    /// </summary>
    private bool MultipliesSamplesBackward => SamplesPerProduct > 1 && FoldsEvenOdd && TransposesWeightGradient;

    /// <summary>Samples the backward pass's products take at once.</summary>
    private int BackwardSamples => MultipliesSamplesBackward ? SamplesPerProduct : 1;

    private ScratchBuffer Padded(Shape input) =>
        new("padded", "float", PaddedLength(input) * Batched,
            $"{(Batched > 1 ? "each sample's input" : "one sample's input")} with its zero padding, {input.Channels}×{input.Height + 2 * Padding}×{input.Width + 2 * Padding}; the border is never written",
            PerSample: false, Samples: Batched);

    /// <summary>Floats of one sample's zero-padded copy.</summary>
    private long PaddedLength(Shape input) => (long)input.Channels * (input.Height + 2 * Padding) * (input.Width + 2 * Padding);

    /// <summary>Samples whose columns the unfolded forward pass multiplies at once (see <see cref="ConvolutionStrategy.SamplesPerProduct"/>).</summary>
    private int SamplesPerProduct => Strategy.SamplesPerProduct;

    /// <summary>The unfold's last argument where it takes several samples: one sample at a time.</summary>
    private string OneSample => SamplesPerProduct > 1 ? ", samples: 1" : "";

    /// <summary>
    /// Several samples' outputs before each sample's planes are copied out, or several samples' dL/dy side by side: one buffer
    /// for every such use this layer has, as long as the longest.
    /// </summary>
    private ScratchBuffer Products(Shape input, Shape output)
    {
        var uses = new List<(long Length, string What)>();
        if (SamplesPerProduct > 1)
        {
            uses.Add(((long)Filters * SamplesPerProduct * Pixels(output),
                $"the forward product of {SamplesPerProduct} samples side by side, {Filters} filters × {SamplesPerProduct}·{Pixels(output)} columns (sample, output pixel){(MultipliesSamplesBackward ? "; in the backward pass, their dL/dy side by side" : "")}"));
        }

        if (CompactedSamples > 1)
        {
            uses.Add((Filters * CompactedSpan(output, CompactedSamples),
                $"the compacting forward pass's output over {CompactedSamples} samples, {Filters} filters × {CompactedSpan(output, CompactedSamples)} floats (sample p's pixel q at p·{CompactedHeight(output) * output.Width} + q)"));
        }

        if (InputGradientSamples > 1)
        {
            uses.Add((input.Channels * CompactedSpan(input, InputGradientSamples),
                $"the direct dL/dx of {InputGradientSamples} samples, {input.Channels} channels × {CompactedSpan(input, InputGradientSamples)} floats (sample p's pixel q at p·{CompactedHeight(input) * input.Width} + q)"));
        }

        return new("products", "float", uses.Max(static u => u.Length), string.Join("; ", uses.Select(static u => u.What)) + ", before each sample's planes are copied out",
            PerSample: false, Samples: Math.Max(Batched, InputGradientSamples));
    }

    private ScratchBuffer OutputGradientT(Shape input, Shape output) => MultipliesSamplesBackward
        ? new("outputGradientT", "float", (long)Pixels(output) * Filters * BackwardSamples,
            $"the samples' dL/dy transposed, one after another, {BackwardSamples}·{Pixels(output)} (sample, pixel) × {Filters} filters", PerSample: false, Samples: BackwardSamples)
        : new("outputGradientT", "float", (long)Pixels(output) * Filters, $"one sample's dL/dy transposed, {Pixels(output)} pixels × {Filters} filters", PerSample: false);

    private ScratchBuffer WeightGradientT(Shape input) =>
        new("weightGradientT", "float", (long)GroupRows(input) * Filters,
            $"dL/dw transposed, {GroupRows(input)} rows × {Filters} filters, summed over the samples of one call" + (Groups > 1 ? $" (rows: one group's input channels and taps)" : ""),
            PerSample: false);

    /// <summary>The direct kernel starts each filter's sums at its bias; without one, at these zeros.</summary>
    private bool UsesZeroBias => !HasBias && Strategy.ConvolvesDirectly;

    private ScratchBuffer ZeroBias(Shape input)
    {
        int length = Strategy.DirectInputGradient ? Math.Max(GroupFilters, GroupChannels(input)) : GroupFilters;
        string where = (UsesZeroBias, Strategy.DirectInputGradient) switch
        {
            (true, true) => "where the sums of this layer without bias, and of dL/dx, start",
            (false, true) => "where the sums of dL/dx start",
            _ => "where the sums of a layer without bias start",
        };
        return new("zeros", "float", length, $"{length} zeros, never written: {where}", PerSample: false);
    }

    /// <summary>The height and width of the zero-bordered planes dL/dy is spread into for a dL/dx by a forward kernel (depthwise, or <see cref="ConvolutionStrategy.DirectInputGradient"/>; see <see cref="EmitSpread"/>).</summary>
    private (int Height, int Width) SpreadSize(Shape input, Shape output) =>
        ((int)SpreadExtent(output.Height, KernelHeight, input.Height), (int)SpreadExtent(output.Width, KernelWidth, input.Width));

    /// <summary>
    /// One side of a spread plane: room for dL/dy spread by the stride after a border of kernel − 1 zeros, and for every read of
    /// dL/dx's kernel, up to input + padding + kernel − 1.
    /// </summary>
    private long SpreadExtent(long output, int kernel, int input) =>
        System.Math.Max((output - 1) * Stride + kernel, input + Padding + kernel - 1L);

    private ScratchBuffer SpreadGradient(Shape input, Shape output)
    {
        (int height, int width) = SpreadSize(input, output);
        return new("spreadGradient", "float", (long)Filters * height * width * InputGradientSamples,
            $"{(InputGradientSamples > 1 ? "each sample's" : "one sample's")} dL/dy spread into {Filters} planes of {height}×{width}: dL/dy(k, i, j) at ({(Stride == 1 ? "i" : $"{Stride}·i")} + {KernelHeight - 1}, {(Stride == 1 ? "j" : $"{Stride}·j")} + {KernelWidth - 1}), zeros elsewhere (never written)",
            PerSample: false, Samples: InputGradientSamples);
    }

    private ScratchBuffer FlippedWeight(Shape input) =>
        new("flippedWeight", "float", (long)Filters * GroupChannels(input) * KernelHeight * KernelWidth,
            Strategy.ConvolvesDepthwise
                ? $"the weight with each {KernelHeight}×{KernelWidth} kernel turned by 180°, for dL/dx"
                : $"the weight with each {KernelHeight}×{KernelWidth} kernel turned by 180° and filters and channels swapped ({GroupChannels(input)} × {GroupFilters}{(Groups > 1 ? " per group" : "")}), for dL/dx",
            PerSample: false);

    /// <summary>The input rows the compacted copy holds per plane.</summary>
    private int CompactedHeight(Shape output) => ConvolutionStrategy.CompactedHeight(output.Height, KernelHeight);

    private bool PadsInput => Strategy.PadsInput;

    private string PaddedArgument => PadsInput ? ", padded" : "";

    public override bool IsVectorized(bool forward) => true;

    public override IReadOnlyList<Operand> ForwardOperands(LayerPlan plan) =>
        Strategy.Winograd ? WinogradOperands(plan)
        : Strategy.ConvolvesDepthwise
        ?
        [
            Operand.X, Operand.Weight, .. BiasOperand(Operand.Bias), Operand.Y,
            .. PadsInput ? new[] { Operand.Of(Padded(plan.Input)) } : [],
        ]
        :
        [
            Operand.X, Operand.Weight, .. BiasOperand(Operand.Bias), Operand.Y,
            .. Strategy.ConvolvesDirectly && !Strategy.Compacts ? [] : new[] { Operand.Of(Columns(plan.Input, plan.Output)) },
            .. Batched > 1 ? new[] { Operand.Of(Products(plan.Input, plan.Output)) } : [],
            .. PadsInput ? new[] { Operand.Of(Padded(plan.Input)) } : [],
            .. UsesZeroBias ? new[] { Operand.Of(ZeroBias(plan.Input)) } : [],
            .. Strategy.TransposesProduct ? new[] { Operand.TransformedWeight } : [],
            .. AddsResidual ? new[] { Operand.Residual } : [],
        ];

    public override IReadOnlyList<Operand> BackwardOperands(LayerPlan plan) => Strategy.WinogradWeightGradient ? WinogradGradientOperands(plan)
        : Strategy.ConvolvesDepthwise
        ?
        [
            Operand.X, Operand.Dy, Operand.Weight, Operand.WeightGradient, .. BiasOperand(Operand.BiasGradient), Operand.Dx, Operand.ComputeDx,
            .. PadsInput ? new[] { Operand.Of(Padded(plan.Input)) } : [],
            Operand.Of(SpreadGradient(plan.Input, plan.Output)), Operand.Of(FlippedWeight(plan.Input)),
        ]
        :
        [
            Operand.X, Operand.Dy, Operand.Weight, Operand.WeightGradient, .. BiasOperand(Operand.BiasGradient), Operand.Dx, Operand.ComputeDx,
            .. Strategy.DirectWeightGradient ? [] : new[] { Operand.Of(Columns(plan.Input, plan.Output)) },
            .. Strategy.DirectInputGradient ? InputGradientOperands(plan) : [Operand.Of(ColumnsGradient(plan.Input, plan.Output))],
            .. PadsInput && (!Strategy.DirectWeightGradient || Strategy.CompactsWeightGradient) ? new[] { Operand.Of(Padded(plan.Input)) } : [],
            .. TransposesWeightGradient ? new[] { Operand.Of(OutputGradientT(plan.Input, plan.Output)), Operand.Of(WeightGradientT(plan.Input)) } : [],
            .. MultipliesSamplesBackward || InputGradientSamples > 1 ? new[] { Operand.Of(Products(plan.Input, plan.Output)) } : [],
            .. CopiesGradientInputs ? new[] { Operand.Of(GradientInputs(plan.Input, plan.Output)) } : [],
            .. FoldsEvenOdd ? new[] { Operand.Of(PaddedGradient(plan.Input)) } : [],
            .. Strategy.DirectInputGradient ? new[] { Operand.Of(ZeroBias(plan.Input)) } : [],
        ];

    private Operand[] BiasOperand(Operand operand) => HasBias ? [operand] : [];

    public override string Describe(LayerPlan plan) =>
        $"kernel {KernelHeight}×{KernelWidth}, stride {Stride}, padding {Padding}"
        + (Groups == 1 ? "" : IsDepthwise(plan.Input) ? $", {Groups} groups (depthwise)" : $", {Groups} groups")
        + (HasBias ? "" : ", no bias");

    /// <summary>Conv with its groups (depthwise: as many as input channels); the bias is read only if there is one.</summary>
    public override IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan) =>
    [
        new("Conv", OnnxRank.Spatial, [Operand.X, Operand.Weight, .. BiasOperand(Operand.Bias)],
            OnnxAttribute.Ints("kernel_shape", KernelHeight, KernelWidth), OnnxAttribute.Ints("strides", Stride, Stride),
            OnnxAttribute.Ints("pads", Padding, Padding, Padding, Padding), OnnxAttribute.Ints("dilations", 1, 1),
            OnnxAttribute.Int("group", Groups)),
    ];

    public override string ForwardFormula(LayerPlan plan)
    {
        string formula = SumFormula(plan);
        return HasEpilogue ? $"{formula}\nthen y(k,i,j) = {EpilogueFormula("y(k,i,j)", "residual(k,i,j)")}, as each is stored" : formula;
    }

    private string SumFormula(LayerPlan plan)
    {
        string i = Index("i", Stride, Padding), j = Index("j", Stride, Padding);
        if (Groups == 1)
        {
            return $"y(k,i,j) = {BiasTerm}Σ_t Σ_m Σ_n w(k,t,m,n) · x(t, {i}, {j})   (zero outside x)";
        }

        if (IsDepthwise(plan.Input))
        {
            return $"y(k,i,j) = {BiasTerm}Σ_m Σ_n w(k,0,m,n) · x({ChannelOf("k")}, {i}, {j})   (zero outside x)\n" +
                   $"depthwise: filter k reads channel {ChannelOf("k")} only";
        }

        int channels = GroupChannels(plan.Input);
        return $"y(k,i,j) = {BiasTerm}Σ_c Σ_m Σ_n w(k,c,m,n) · x(⌊k/{GroupFilters}⌋·{channels} + c, {i}, {j})   (zero outside x)\n" +
               $"{Groups} groups: filters g·{GroupFilters} … g·{GroupFilters} + {GroupFilters - 1} read only channels g·{channels} + c, c < {channels}";
    }

    public override string BackwardFormula(LayerPlan plan)
    {
        string i = Index("i", Stride, Padding), j = Index("j", Stride, Padding);
        string bias = HasBias ? "dL/db(k)       += Σ_i Σ_j dL/dy(k,i,j)\n" : "";
        if (Groups == 1)
        {
            return $"dL/dw(k,t,m,n) += Σ_i Σ_j dL/dy(k,i,j) · x(t, {i}, {j})\n" + bias +
                   $"dL/dx(t,u,v)    = Σ_k Σ_m Σ_n dL/dy(k,i,j) · w(k,t,m,n) over u = {i}, v = {j} (transposed convolution)";
        }

        if (IsDepthwise(plan.Input))
        {
            string filters = GroupFilters == 1 ? "k = t" : $"the filters k = t·{GroupFilters} … t·{GroupFilters} + {GroupFilters - 1}";
            return $"dL/dw(k,0,m,n) += Σ_i Σ_j dL/dy(k,i,j) · x({ChannelOf("k")}, {i}, {j})\n" + bias +
                   $"dL/dx(t,u,v)    = Σ_k Σ_m Σ_n dL/dy(k,i,j) · w(k,0,m,n) over {filters} and u = {i}, v = {j} (transposed convolution)";
        }

        int channels = GroupChannels(plan.Input);
        return $"dL/dw(k,c,m,n) += Σ_i Σ_j dL/dy(k,i,j) · x(⌊k/{GroupFilters}⌋·{channels} + c, {i}, {j})\n" + bias +
               $"dL/dx(t,u,v)    = Σ_k Σ_m Σ_n dL/dy(k,i,j) · w(k, t − ⌊t/{channels}⌋·{channels}, m, n) over the filters k of t's group, ⌊t/{channels}⌋, and u = {i}, v = {j} (transposed convolution)";
    }

    /// <summary>The one channel a depthwise filter reads: k, or ⌊k/M⌋ with a channel multiplier M.</summary>
    private string ChannelOf(string k) => GroupFilters == 1 ? k : $"⌊{k}/{GroupFilters}⌋";

    private string BiasTerm => HasBias ? "b(k) + " : "";

    public override void EmitForward(SourceWriter w, LayerPlan plan)
    {
        if (Strategy.Winograd)
        {
            EmitWinogradForward(w, plan);
            return;
        }

        if (Strategy.ConvolvesDepthwise)
        {
            EmitDepthwiseForward(w, plan);
            return;
        }

        if (Strategy.ConvolvesDirectly)
        {
            EmitDirectForward(w, plan);
            return;
        }

        int rows = Rows(plan.Input), pixels = Pixels(plan.Output);
        int groupRows = GroupRows(plan.Input), groupFilters = GroupFilters;
        w.Line($"ref float w0 = ref MemoryMarshal.GetReference(weight);");
        if (HasBias)
        {
            w.Line($"ref float b0 = ref MemoryMarshal.GetReference(bias);");
        }

        w.Line($"ref float c0 = ref MemoryMarshal.GetReference(columns);");
        OpenSampleLoop(w, SamplesPerProduct > 1 ? () => EmitSeveralSamplesForward(w, plan) : null);

        w.Open();
        w.Line($"ReadOnlySpan<float> xs = x.Slice(s * {plan.Input.Length}); // to the buffer's end, as ys: a row's last vector may reach into the slack");
        w.Line($"Span<float> ys = y.Slice(s * {plan.Output.Length});");
        if (!Strategy.TransposesProduct)
        {
            w.Line($"ref float y0 = ref MemoryMarshal.GetReference(ys);");
        }

        w.Line();
        w.Line($"// 1. Unfold (im2col) this sample into columns.");
        w.Line($"{plan.Pascal}Unfold{UnfoldGeneric}(xs, columns{PaddedArgument}{OneSample});");
        w.Line();
        if (Strategy.TransposesProduct)
        {
            EmitTransposedProduct(w, plan);
            w.Close();
            return;
        }

        string start = HasBias ? "its bias" : "zero";
        if (Groups == 1)
        {
            w.Line($"// 2. y(k, q) = {(HasBias ? "b(k) + " : "")}Σ_r w(k, r) · columns(r, q): [{Filters}×{rows}] · [{rows}×{pixels}], register tiles of 8 filters × 2 vectors of pixels, blocked for the caches; each filter's accumulators start at {start}.");
        }
        else
        {
            w.Line($"// 2. In each group g: y(g·{groupFilters} + k, q) = {(HasBias ? $"b(g·{groupFilters} + k) + " : "")}Σ_r w(g·{groupFilters} + k, r) · columns(g·{groupRows} + r, q): [{groupFilters}×{groupRows}] · [{groupRows}×{pixels}], register tiles of 8 filters × 2 vectors of pixels, blocked for the caches; each filter's accumulators start at {start}.");
        }

        EmitEpilogueComment(w);
        OpenGroups(w);
        string a = $"{At("w0", (long)groupFilters * groupRows)}, {groupRows}, 1, {At("c0", (long)groupRows * pixels)}, {pixels}, {At("y0", (long)groupFilters * pixels)}, {pixels}";
        string sizes = $"m: {groupFilters}, k: {groupRows}, n: {pixels}, paddedTail: true{EpilogueArgument(GroupOffset(plan, (long)groupFilters * pixels))}";
        EmitForwardProduct(w, a, At("b0", groupFilters), sizes);

        CloseGroups(w);
        w.Close();
    }

    /// <summary>
    /// Declares <c>s</c> and opens <c>for (; s + samples &lt;= count; s += samples)</c>, after a comment saying why: the start of a
    /// pass that takes several samples at a time; <see cref="OpenRemainingSamples"/> then takes the rest one by one.
    /// </summary>
    private static void OpenSampleGroups(SourceWriter w, int samples, string why)
    {
        w.Line($"int s = 0;");
        w.Line($"// {samples} samples at a time: {why}");
        w.Line($"for (; s + {samples} <= count; s += {samples})");
        w.Open();
    }

    /// <summary>
    /// The forward pass's product, y = W · columns (<paramref name="operands"/>: A, B and C with their strides), each filter's
    /// sums starting at its bias (<paramref name="bias"/>) or, without one, at zero; <paramref name="sizes"/> ends the call.
    /// </summary>
    private void EmitForwardProduct(SourceWriter w, string operands, string bias, string sizes) =>
        w.Line($"{(HasBias ? $"Gemm.MultiplyBias<TVector>({operands}, {bias}, {sizes});" : $"Gemm.Multiply<TVector>({operands}, {sizes});")}");

    /// <summary>
    /// Opens a pass's loop over the samples (the caller opens its body): with <paramref name="groups"/>, which writes a loop over
    /// several samples at a time (<see cref="OpenSampleGroups"/>), then the rest one by one; otherwise <paramref name="oneByOne"/>.
    /// </summary>
    private static void OpenSampleLoop(SourceWriter w, Action? groups, string oneByOne = "for (int s = 0; s < count; s++)")
    {
        if (groups is null)
        {
            w.Line($"{oneByOne}");
            return;
        }

        groups();
        OpenRemainingSamples(w);
    }

    /// <summary>After the loop of <see cref="OpenSampleGroups"/>: the samples left, one by one (the caller opens the body).</summary>
    private static void OpenRemainingSamples(SourceWriter w)
    {
        w.Line();
        w.Line($"// The rest one by one.");
        w.Line($"for (; s < count; s++)");
    }

    /// <summary>
    /// The unfolded forward pass over <see cref="SamplesPerProduct"/> samples at a time (ungrouped): their columns side by side,
    /// one product, then each sample's planes copied out. Declares <c>s</c>, the first sample left.
    /// </summary>
    private void EmitSeveralSamplesForward(SourceWriter w, LayerPlan plan)
    {
        int rows = Rows(plan.Input), pixels = Pixels(plan.Output), samples = SamplesPerProduct, columns = samples * pixels;
        w.Line($"ref float r0 = ref MemoryMarshal.GetReference(products);");
        OpenSampleGroups(w, samples, $"one sample's {pixels} pixels would leave the product's last vectors partly empty, and {samples} side by side fill them.");
        w.Line($"// 1. Unfold (im2col) samples s … s + {samples - 1} into columns, side by side: columns(r, p·{pixels} + q) is sample s + p's.");
        w.Line($"{plan.Pascal}Unfold{UnfoldGeneric}(x.Slice(s * {plan.Input.Length}), columns{PaddedArgument}, samples: {samples});");
        w.Line();
        string start = HasBias ? "its bias" : "zero";
        w.Line($"// 2. products(k, c) = {(HasBias ? "b(k) + " : "")}Σ_r w(k, r) · columns(r, c): [{Filters}×{rows}] · [{rows}×{columns}], register tiles of 8 filters × 2 vectors of columns, blocked for the caches; each filter's accumulators start at {start}.");
        string a = $"ref w0, {rows}, 1, ref c0, {columns}, ref r0, {columns}";
        string sizes = $"m: {Filters}, k: {rows}, n: {columns}, paddedTail: true";
        EmitForwardProduct(w, a, "ref b0", sizes);
        w.Line();
        w.Line($"// 3. Each sample's planes: y(s + p, k, q) = {(HasEpilogue ? EpilogueFormula($"products(k, p·{pixels} + q)", "residual(s + p, k, q)") : $"products(k, p·{pixels} + q)")}.");
        w.Line($"Rows.Unstack<TVector>(products, {Filters}, {samples}, {pixels}, y.Slice(s * {plan.Output.Length}), {EpilogueAt($"s * {plan.Output.Length}")});");
        w.Close();
    }

    /// <summary>
    /// An ungrouped convolution splits its filters, in parts of 16 (two register tiles of 8, or 6 + 6 + 4 with 16 registers;
    /// 8 when it has fewer than 32): each part reads the whole padded or unfolded input, made once beforehand. A
    /// convolution that compacts its input on one thread runs its parts with the direct kernel from the padded copy
    /// instead (the same sums in the same order): the compacted copy is several times larger, and every part would read it
    /// from the core that wrote it (docs/benchmarks.md has the measurements). Where the output rows fill under 60 % of their
    /// vectors (7 pixels in 16 lanes), that kernel runs at under half the compacted one's rate and the layer is not split: a
    /// 128-filter 7×7 layer split this way made a one-image pass slower on two threads than on one. A Winograd form splits
    /// its tile rows in two instead (<see cref="EmitWinogradUnits"/>): split by filters, each part read the whole transformed
    /// input (225 KB for WideNet's conv2) from the core that made it, and ran slower than the unsplit pass.
    /// </summary>
    public override SplitPlan? SplitForward(LayerPlan plan) =>
        Strategy.Winograd ? WinogradSplit(plan.Output)
        : Groups == 1 && !Strategy.ConvolvesDepthwise && (!Strategy.Compacts || ConvolutionStrategy.RowsFillVectors(plan.Output.Width))
            ? new SplitPlan(Filters, Filters >= 32 ? 16 : 8, Prepares: !Strategy.ConvolvesDirectly || PadsInput, "filters")
            : null;

    /// <summary>The input every part of a split forward pass reads: the unfold, or the padded copy.</summary>
    public override void EmitForwardPrepare(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        if (!Strategy.ConvolvesDirectly)
        {
            w.Line($"{plan.Pascal}Unfold{UnfoldGeneric}(x, columns{PaddedArgument}{OneSample}); // im2col: {Rows(input)} rows (input channel, kernel tap) × {Pixels(output)} pixels");
            return;
        }

        if (PadsInput)
        {
            w.Line($"{plan.Pascal}Pad<TVector>(x, padded);");
        }
    }

    /// <summary>Filters first … first + units − 1 of one sample, after <see cref="EmitForwardPrepare"/>: the same kernels as <see cref="EmitForward"/> over those filters' weights, biases and planes.</summary>
    public override void EmitForwardUnits(SourceWriter w, LayerPlan plan)
    {
        if (Strategy.Winograd)
        {
            EmitWinogradUnits(w, plan);
            return;
        }

        Shape input = plan.Input, output = plan.Output;
        int rows = Rows(input), pixels = Pixels(output);
        int height = input.Height + 2 * Padding, width = input.Width + 2 * Padding, plane = height * width;
        w.Line($"ref float w0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(weight), first * {rows});");
        if (HasBias)
        {
            w.Line($"ref float b0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(bias), first);");
        }
        else if (UsesZeroBias)
        {
            w.Line($"ref float b0 = ref MemoryMarshal.GetReference(zeros); // no bias: every filter's sums start at zero");
        }

        w.Line($"ref float y0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), first * {pixels});");
        const string filters = "filters [first, first + units)";
        if (!Strategy.ConvolvesDirectly)
        {
            w.Line($"// y(k, q) = {(HasBias ? "b(k) + " : "")}Σ_r w(k, r) · columns(r, q) for the {filters}: [units×{rows}] · [{rows}×{pixels}].");
            string product = $"ref w0, {rows}, 1, ref MemoryMarshal.GetReference(columns), {pixels}, ref y0, {pixels}";
            // paddedTail: false: each row's last vector ends at its last pixel, so nothing is written past the part's filters (another thread's).
            string sizes = $"m: units, k: {rows}, n: {pixels}, paddedTail: false{EpilogueArgument($"first * {pixels}")}";
            EmitEpilogueComment(w);
            EmitForwardProduct(w, product, "ref b0", sizes);

            return;
        }

        string shape = $"kernelHeight: {KernelHeight}, kernelWidth: {KernelWidth}";
        string source = PadsInput ? PaddedSlice(input) : $"x.Slice(0, {input.Length} + {ReadPast})";
        w.Line($"// y(k, i, j) = {(HasBias ? "b(k) + " : "")}Σ_t Σ_m Σ_n w(k, t, m, n) · {(PadsInput ? "padded" : "x")}(t, i + m, j + n) for the {filters} (the slice proves the slack a row's last vector reads).");
        EmitEpilogueComment(w);
        w.Line($"Convolution.Forward<TVector>(ref w0, ref b0, ref MemoryMarshal.GetReference({source}), ref y0, filters: units, channels: {input.Channels}, {shape}, inputWidth: {width}, inputPlane: {plane}, outputHeight: {output.Height}, outputWidth: {output.Width}{EpilogueArgument($"first * {pixels}")});");
    }

    /// <summary>The forward pass without the unfold (see <see cref="ConvolutionStrategy.ConvolvesDirectly"/>).</summary>
    private void EmitDirectForward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        int height = input.Height + 2 * Padding, width = input.Width + 2 * Padding, plane = height * width;
        int groupChannels = GroupChannels(input), groupFilters = GroupFilters;
        w.Line($"ref float w0 = ref MemoryMarshal.GetReference(weight);");
        if (HasBias)
        {
            w.Line($"ref float b0 = ref MemoryMarshal.GetReference(bias);");
        }
        else
        {
            w.Line($"ref float b0 = ref MemoryMarshal.GetReference(zeros); // no bias: every filter's sums start at zero");
        }

        if (PadsInput)
        {
            w.Line($"// A vector of a row's last pixels reads up to Count − 1 floats past the padded copy's last row: this slice proves the buffer has them.");
            w.Line($"ref float p0 = ref MemoryMarshal.GetReference({PaddedSlice(input)});");
        }

        if (Strategy.Compacts)
        {
            w.Line($"// The compacted copy's last vector reaches up to Count − 1 floats past its planes: this slice proves the buffer has them.");
            w.Line($"ref float c0 = ref MemoryMarshal.GetReference(columns.Slice(0, {CompactedLength(input, output) * CompactedSamples} + TVector.Count - 1));");
        }

        OpenSampleLoop(w, CompactedSamples > 1 ? () => EmitCompactedSamplesForward(w, plan) : null);

        w.Open();
        w.Line($"ReadOnlySpan<float> xs = x.Slice(s * {input.Length}); // to the buffer's end: a row's last vector may read into the slack");
        w.Line($"ref float y0 = ref MemoryMarshal.GetReference(y.Slice(s * {output.Length})); // to the buffer's end, as xs: a masked store may read and write back the slack");
        if (PadsInput)
        {
            w.Line($"{plan.Pascal}Pad<TVector>(xs, padded);");
        }

        string source = PadsInput ? "p0" : $"MemoryMarshal.GetReference(xs.Slice(0, {input.Length} + TVector.Count - 1))";
        if (Groups > 1 && !PadsInput)
        {
            w.Line($"ref float x0 = ref {source};");
            source = "x0";
        }

        w.Line();
        string starts = HasBias ? "each filter's sums start at its bias" : "each filter's sums start at zero";
        string formula = $"y(k, i, j) = {(HasBias ? "b(k) + " : "")}Σ_t Σ_m Σ_n w(k, t, m, n) · {(PadsInput ? "padded" : "x")}(t, i + m, j + n), straight from the {(PadsInput ? "padded copy" : "input")} (no unfold): register tiles of";
        if (Groups > 1)
        {
            formula = $"In each group g, filters g·{groupFilters} … over channels g·{groupChannels} …: " + formula;
        }

        OpenGroups(w);
        string x = Groups == 1 ? $"ref {source}" : $"ref Unsafe.Add(ref {source}, g * {groupChannels * plane})";
        string bias = HasBias ? At("b0", groupFilters) : "ref b0";
        string shape = $"filters: {groupFilters}, channels: {groupChannels}, kernelHeight: {KernelHeight}, kernelWidth: {KernelWidth}, inputWidth: {width}, inputPlane: {plane}, outputHeight: {output.Height}, outputWidth: {output.Width}"
            + EpilogueArgument(GroupOffset(plan, (long)groupFilters * Pixels(output)));
        EmitEpilogueComment(w);
        if (Strategy.Compacts)
        {
            w.Line($"// {formula} up to 8 filters × 2 vectors of output pixels, each tap one load per vector; {starts}. The {output.Width}-pixel rows would leave lanes empty, so the input is first copied into columns as {groupChannels * KernelWidth} planes (t, n) of {CompactedHeight(output)}×{output.Width}, holding {(PadsInput ? "padded" : "x")}(t, u, j + n) at u·{output.Width} + j: there pixel q = i·{output.Width} + j reads plane (t, n) at q + m·{output.Width}, and a vector of pixels runs on across the rows.");
            w.Line($"Convolution.ForwardCompacted<TVector>({At("w0", (long)groupFilters * GroupRows(input))}, {bias}, {x}, ref c0, {At("y0", (long)groupFilters * Pixels(output))}, {shape});");
        }
        else
        {
            w.Line($"// {formula} up to 8 filters × 2 vectors of output pixels (a row's, or two rows'), each tap one load per vector; {starts}.");
            w.Line($"Convolution.Forward<TVector>({At("w0", (long)groupFilters * GroupRows(input))}, {bias}, {x}, {At("y0", (long)groupFilters * Pixels(output))}, {shape});");
        }

        CloseGroups(w);
        w.Close();
    }

    /// <summary>
    /// The compacting forward pass over <see cref="CompactedSamples"/> samples at a time (ungrouped): their rows one after
    /// another in each compacted plane, one convolution over them, each sample's planes copied out. Declares <c>s</c>, the
    /// first sample left.
    /// </summary>
    private void EmitCompactedSamplesForward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        int samples = CompactedSamples, height = CompactedHeight(output), pixels = Pixels(output);
        int width = input.Width + 2 * Padding, plane = (input.Height + 2 * Padding) * width;
        w.Line($"ref float r0 = ref MemoryMarshal.GetReference(products);");
        OpenSampleGroups(w, samples, $"one sample's {pixels} pixels would leave its last vector partly empty. Each compacted plane holds the {samples} samples' {height} rows one after another, so a vector of pixels runs on from one sample into the next; sample p's pixel q comes out at p·{height * output.Width} + q of each filter's {CompactedSpan(output, CompactedSamples)} floats in products, and is copied to its own output.");
        string source;
        if (PadsInput)
        {
            w.Line($"for (int p = 0; p < {samples}; p++)");
            w.Open();
            w.Line($"{plan.Pascal}Pad<TVector>(x.Slice((s + p) * {input.Length}), padded.Slice(p * {input.Channels * plane}));");
            w.Close();
            w.Line();
            source = "ref p0";
        }
        else
        {
            w.Line($"ref float x0 = ref MemoryMarshal.GetReference(x.Slice(s * {input.Length})); // to the buffer's end: a row's last vector may read into the slack");
            source = "ref x0";
        }

        w.Line($"// y(k, i, j) = {(HasBias ? "b(k) + " : "")}Σ_t Σ_m Σ_n w(k, t, m, n) · {(PadsInput ? "padded" : "x")}(t, i + m, j + n) of each sample, from their compacted copy: register tiles of up to 8 filters × 2 vectors of pixels, the same sums in the same order as one sample at a time.");
        EmitEpilogueComment(w);
        w.Line($"Convolution.ForwardCompactedSamples<TVector>(ref w0, ref b0, {source}, ref c0, ref r0, ref MemoryMarshal.GetReference(y.Slice(s * {output.Length}, {samples * output.Length})), filters: {Filters}, channels: {input.Channels}, kernelHeight: {KernelHeight}, kernelWidth: {KernelWidth}, inputWidth: {width}, inputPlane: {plane}, outputHeight: {output.Height}, outputWidth: {output.Width}, samples: {samples}, inputStride: {(PadsInput ? input.Channels * plane : input.Length)}, outputStride: {output.Length}, epilogue: {EpilogueAt($"s * {output.Length}")});");
        w.Close();
    }

    /// <summary>
    /// A depthwise forward pass (see <see cref="ConvolutionStrategy.ConvolvesDepthwise"/>): each filter's plane from its one
    /// input channel, 8 vectors of output pixels per register tile.
    /// </summary>
    private void EmitDepthwiseForward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        int height = input.Height + 2 * Padding, width = input.Width + 2 * Padding, plane = height * width;
        w.Line($"ref float w0 = ref MemoryMarshal.GetReference(weight);");
        EmitDepthwiseBias(w);
        if (PadsInput)
        {
            w.Line($"// A vector of a row's last pixels reads up to {ReadPast} floats past the padded copy's last row: this slice proves the buffer has them.");
            w.Line($"ref float p0 = ref MemoryMarshal.GetReference({PaddedSlice(input)});");
        }

        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"ReadOnlySpan<float> xs = x.Slice(s * {input.Length}); // to the buffer's end: a row's last vector may read into the slack");
        w.Line($"ref float y0 = ref MemoryMarshal.GetReference(y.Slice(s * {output.Length})); // to the buffer's end, as xs: a masked store may read and write back the slack");
        if (PadsInput)
        {
            w.Line($"{plan.Pascal}Pad<TVector>(xs, padded);");
        }

        w.Line();
        w.Line($"// y(k, i, j) = {(HasBias ? "b(k) + " : "")}Σ_m Σ_n w(k, 0, m, n) · {(PadsInput ? "padded" : "x")}({ChannelOf("k")}, {(Stride == 1 ? "i" : $"{Stride}·i")} + m, {(Stride == 1 ? "j" : $"{Stride}·j")} + n): each filter reads one channel; register tiles of 8 vectors of one filter's output pixels (8 rows of one, or 4 rows of two), each tap one broadcast weight and one {(Stride == 1 ? "load" : "pick of the even lanes of two loads")} per vector{(Stride == 1 && KernelHeight == 3 && KernelWidth == 3 ? " (3×3: the 9 weights in registers, each input row loaded once for the 3 output rows it feeds)" : "")}.");
        w.Line($"DepthwiseConvolution.Forward<TVector>(ref w0, {DepthwiseBiasArguments}, ref {DepthwiseSource(input)}, ref y0, outputs: {Filters}, multiplier: {GroupFilters}, channels: 1, kernelHeight: {KernelHeight}, kernelWidth: {KernelWidth}, stride: {Stride}, inputWidth: {width}, inputPlane: {plane}, outputHeight: {output.Height}, outputWidth: {output.Width});");
        w.Close();
    }

    /// <summary>What the depthwise kernels read: the padded copy, or the sample itself (with the slack its last vector reads).</summary>
    private string DepthwiseSource(Shape input) => PadsInput ? "p0" : $"MemoryMarshal.GetReference(xs.Slice(0, {input.Length} + {ReadPast}))";

    /// <summary>How far past a row's last float the depthwise kernels read: a vector, or with stride 2 two of them, less one.</summary>
    private string ReadPast => Stride == 1 ? "TVector.Count - 1" : $"{Stride} * TVector.Count - 1";

    /// <summary>The padded copy with the floats the kernels read past its last row (<see cref="ReadPast"/>): a slice that proves the buffer has them.</summary>
    private string PaddedSlice(Shape input) => $"padded.Slice(0, {Padded(input).LongLength} + {ReadPast})";

    private void EmitDepthwiseBias(SourceWriter w)
    {
        if (HasBias)
        {
            w.Line($"ref float b0 = ref MemoryMarshal.GetReference(bias);");
        }
        else
        {
            w.Line($"float zero = 0f; // no bias: every filter's sums start at zero (a bias step of 0)");
        }
    }

    private string DepthwiseBiasArguments => HasBias ? "ref b0, 1" : "ref zero, 0";

    /// <summary>With groups, opens the loop over them (<c>g</c>); every kernel call inside takes its group's slices (<see cref="At"/>).</summary>
    private void OpenGroups(SourceWriter w)
    {
        if (Groups > 1)
        {
            w.Line($"for (int g = 0; g < {Groups}; g++)");
            w.Open();
        }
    }

    private void CloseGroups(SourceWriter w)
    {
        if (Groups > 1)
        {
            w.Close();
        }
    }

    /// <summary><c>ref r</c>, or inside the loop over groups, group g's slice of it: <c>ref Unsafe.Add(ref r, g * perGroup)</c>.</summary>
    /// <summary>Where sample s's group g starts in y (and the residual): the offset of an epilogue.</summary>
    private string GroupOffset(LayerPlan plan, long perGroup) => Groups == 1 ? $"s * {plan.Output.Length}" : $"s * {plan.Output.Length} + g * {perGroup}";

    private string At(string reference, long perGroup) => Groups == 1 ? $"ref {reference}" : $"ref Unsafe.Add(ref {reference}, g * {perGroup})";

    public override void EmitBackward(SourceWriter w, LayerPlan plan)
    {
        if (Strategy.ConvolvesDepthwise)
        {
            EmitDepthwiseBackward(w, plan);
            return;
        }

        if (Strategy.DirectWeightGradient)
        {
            EmitDirectGradientBackward(w, plan);
            return;
        }

        if (Strategy.WinogradWeightGradient)
        {
            EmitWinogradGradientBackward(w, plan);
            return;
        }

        int rows = Rows(plan.Input), pixels = Pixels(plan.Output);
        int groupRows = GroupRows(plan.Input), groupFilters = GroupFilters;
        w.Line($"ref float w0 = ref MemoryMarshal.GetReference(weight);");
        if (!TransposesWeightGradient)
        {
            w.Line($"ref float dw0 = ref MemoryMarshal.GetReference(weightGradient);");
        }

        w.Line($"ref float c0 = ref MemoryMarshal.GetReference(columns);");
        if (!Strategy.DirectInputGradient)
        {
            w.Line($"ref float dc0 = ref MemoryMarshal.GetReference(columnsGradient);");
        }

        if (TransposesWeightGradient)
        {
            w.Line($"// dL/dyᵀ and dL/dwᵀ: a row's last vector may reach into the buffers' slack, which these slices prove is there.");
            w.Line($"ref float dyT0 = ref MemoryMarshal.GetReference(outputGradientT.Slice(0, {OutputGradientT(plan.Input, plan.Output).LongLength} + TVector.Count - 1));");
            w.Line($"ref float dwT0 = ref MemoryMarshal.GetReference(weightGradientT.Slice(0, {groupRows * Filters} + TVector.Count - 1));");
            w.Line($"weightGradientT.Slice(0, {groupRows * Filters}).Clear();");
        }

        if (Strategy.DirectInputGradient)
        {
            w.Line($"if (computeDx)");
            w.Open();
            EmitTurnWeight(w, plan);
            w.Close();
            w.Line();
            EmitDirectInputGradientReferences(w, plan);
        }

        bool direct = Strategy.ConvolvesDirectly;
        if (direct)
        {
            w.Line($"// Last sample first, as where the forward pass unfolds (this one convolved directly, so every sample is unfolded here).");
        }
        else if (SamplesPerProduct > 1)
        {
            w.Line($"// Every sample is unfolded here: the forward pass left {SamplesPerProduct} samples' columns side by side.");
        }
        else
        {
            w.Line($"// Last sample first: the forward pass left its columns in place, so only the others are unfolded again.");
        }

        OpenSampleLoop(w, MultipliesSamplesBackward ? () => EmitSeveralSamplesBackward(w, plan) : null, "for (int s = count - 1; s >= 0; s--)");

        w.Open();
        w.Line($"ReadOnlySpan<float> xs = x.Slice(s * {plan.Input.Length}); // to the buffer's end (see the forward pass)");
        w.Line($"ReadOnlySpan<float> dys = dy.Slice(s * {plan.Output.Length});");
        w.Line($"ref float dy0 = ref MemoryMarshal.GetReference(dys);");
        w.Line();
        if (direct || SamplesPerProduct > 1)
        {
            w.Line($"// 1. Unfold this sample.");
            w.Line($"{plan.Pascal}Unfold{UnfoldGeneric}(xs, columns{PaddedArgument}{OneSample});");
        }
        else
        {
            w.Line($"// 1. Unfold this sample again, unless the forward pass's columns are still its own.");
            w.Line($"if (s != count - 1)");
            w.Open();
            w.Line($"{plan.Pascal}Unfold{UnfoldGeneric}(xs, columns{PaddedArgument}{OneSample});");
            w.Close();
        }
        w.Line();
        string biasGradient = HasBias ? "; dL/db(k) += Σ_q dL/dy(k, q)" : "";
        string inGroup = Groups == 1 ? "" : $"In each group g (filters k, and rows r of its {groupRows} input channels' taps): ";
        if (TransposesWeightGradient)
        {
            w.Line($"// 2. {inGroup}dL/dwᵀ(r, k) += Σ_q columns(r, q) · dL/dyᵀ(q, k): [{groupRows}×{pixels}] · [{pixels}×{groupFilters}], tiles of 8 rows × 2 vectors of filters{biasGradient}.");
            w.Line($"Rows.Transpose(dys, {pixels}, {Filters}, {pixels}, outputGradientT, {Filters}); // dL/dyᵀ(q, k) = dL/dy(k, q)");
            w.Line();
            OpenGroups(w);
            w.Line($"Gemm.MultiplyAdd<TVector>({At("c0", (long)groupRows * pixels)}, {pixels}, 1, {At("dyT0", groupFilters)}, {Filters}, {At("dwT0", groupFilters)}, {Filters}, m: {groupRows}, k: {pixels}, n: {groupFilters}, paddedTail: true);");
            CloseGroups(w);
        }
        else
        {
            w.Line($"// 2. {inGroup}dL/dw(k, r) += Σ_q dL/dy(k, q) · columns(r, q): [{groupFilters}×{pixels}] · [{groupRows}×{pixels}]ᵀ, tiles of 4 filters (then 2, then 1) × 4 rows of dot products{biasGradient}.");
            OpenGroups(w);
            w.Line($"Gemm.Dot<TVector>({At("dy0", (long)groupFilters * pixels)}, {pixels}, {At("c0", (long)groupRows * pixels)}, {pixels}, {pixels}, {At("dw0", (long)groupFilters * groupRows)}, {groupRows}, 1, m: {groupFilters}, n: {groupRows});");
            CloseGroups(w);
        }

        EmitBiasGradient(w, pixels);
        if (InputGradientSamples > 1)
        {
            w.Close();
        }
        else
        {
            w.Line();
            EmitExitWithoutInputGradient(w, "continue");
            w.Line();
            EmitInputGradient(w, plan, 3, "dy0", "dys");
            w.Close();
        }

        if (TransposesWeightGradient)
        {
            w.Line();
            w.Line($"// 5. dL/dw(k, r) += dL/dwᵀ(r, k), once for all the samples.");
            w.Line($"Rows.TransposeAdd(weightGradientT, {Filters}, {groupRows}, {Filters}, weightGradient, {groupRows});");
        }

        if (InputGradientSamples > 1)
        {
            w.Line();
            w.Line($"if (computeDx)");
            w.Open();
            EmitPairedInputGradient(w, plan, 3);
            w.Close();
        }
    }

    /// <summary>
    /// Every sample's direct dL/dx, <see cref="InputGradientSamples"/> at a time through one compacted copy
    /// (<c>Convolution.ForwardCompactedSamples</c>), the rest one by one.
    /// </summary>
    private void EmitPairedInputGradient(SourceWriter w, LayerPlan plan, int step)
    {
        Shape input = plan.Input, output = plan.Output;
        int samples = InputGradientSamples;
        (int spreadHeight, int spreadWidth) = SpreadSize(input, output);
        long spreadLength = (long)Filters * spreadHeight * spreadWidth;
        w.Line($"ref float r0 = ref MemoryMarshal.GetReference(products);");
        OpenSampleGroups(w, samples, $"as the forward pass compacts them, each compacted plane holds their rows one after another, and each sample's dL/dx comes out at p·{CompactedHeight(input) * input.Width} + q of each channel's {CompactedSpan(input, InputGradientSamples)} floats in products, to be copied to its own.");
        w.Line($"// {step}. Spread each sample's dL/dy into its zero-bordered planes: spread(k, i + {KernelHeight - 1}, j + {KernelWidth - 1}) = dL/dy(k, i, j).");
        w.Line($"for (int p = 0; p < {samples}; p++)");
        w.Open();
        w.Line($"{plan.Pascal}Spread(dy.Slice((s + p) * {output.Length}, {output.Length}), spreadGradient.Slice(p * {spreadLength}));");
        w.Close();
        w.Line();
        w.Line($"// {step + 1}. dL/dx(t, u, v) = Σ_k Σ_m Σ_n flipped(t, k, m, n) · spread(k, u + {Padding} + m, v + {Padding} + n) of each sample: the forward kernel (compacting), {input.Channels} filters over {Filters} channels, sums from zero.");
        w.Line($"Convolution.ForwardCompactedSamples<TVector>(ref f0, ref z0, ref Unsafe.Add(ref sp0, {Padding * spreadWidth + Padding}), ref cg0, ref r0, ref MemoryMarshal.GetReference(dx.Slice(s * {input.Length}, {samples * input.Length})), filters: {input.Channels}, channels: {Filters}, kernelHeight: {KernelHeight}, kernelWidth: {KernelWidth}, inputWidth: {spreadWidth}, inputPlane: {spreadHeight * spreadWidth}, outputHeight: {input.Height}, outputWidth: {input.Width}, samples: {samples}, inputStride: {spreadLength}, outputStride: {input.Length}, epilogue: Epilogue.None);");
        w.Close();
        OpenRemainingSamples(w);
        w.Open();
        w.Line($"ReadOnlySpan<float> dys = dy.Slice(s * {output.Length});");
        EmitInputGradient(w, plan, step, "dys0", "dys");
        w.Close();
    }

    /// <summary>
    /// A backward pass with a direct dL/dw (see <see cref="ConvolutionStrategy.DirectWeightGradient"/>): dL/dw from every
    /// sample's (padded or compacted) input and dL/dy in one kernel call per group, no unfold; then dL/dx sample by sample
    /// (<see cref="EmitInputGradient"/>).
    /// </summary>
    private void EmitDirectGradientBackward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        int pixels = Pixels(output), groupRows = GroupRows(input), groupFilters = GroupFilters, groupChannels = GroupChannels(input);
        int width = input.Width + 2 * Padding, plane = (input.Height + 2 * Padding) * width;
        long copy = GradientInputLength(input, output);
        w.Line($"ref float w0 = ref MemoryMarshal.GetReference(weight);");
        w.Line($"ref float dw0 = ref MemoryMarshal.GetReference(weightGradient);");
        if (!Strategy.DirectInputGradient)
        {
            w.Line($"ref float dc0 = ref MemoryMarshal.GetReference(columnsGradient);");
        }

        w.Line($"// dL/dy of every sample: the last row's vector reads up to Count − 1 floats past it, which this slice proves are there.");
        w.Line($"ref float dy0 = ref MemoryMarshal.GetReference(dy.Slice(0, count * {output.Length} + TVector.Count - 1));");
        string source, what;
        long sample;
        if (CopiesGradientInputs)
        {
            w.Line($"// Every sample's copy, as the kernel reads it: the last one's last vector reads up to Count − 1 floats past it.");
            w.Line($"ref float g0 = ref MemoryMarshal.GetReference(gradientInputs.Slice(0, count * {copy} + TVector.Count - 1));");
            if (Strategy.CompactsWeightGradient && PadsInput)
            {
                w.Line($"ref float p0 = ref MemoryMarshal.GetReference({PaddedSlice(input)});");
            }

            w.Line();
            if (Strategy.CompactsWeightGradient)
            {
                w.Line($"// 1. Each sample compacted ({input.Channels * KernelWidth} planes (t, n) of {CompactedHeight(output)}×{output.Width}, holding {(PadsInput ? "padded" : "x")}(t, u, j + n) at u·{output.Width} + j): the {output.Width}-pixel rows would leave lanes empty, and there a vector of pixels runs on across them.");
            }
            else
            {
                w.Line($"// 1. Each sample into its zero-padded copy ({input.Channels}×{input.Height + 2 * Padding}×{width}).");
            }

            w.Line($"for (int s = 0; s < count; s++)");
            w.Open();
            if (!Strategy.CompactsWeightGradient)
            {
                w.Line($"{plan.Pascal}Pad<TVector>(x.Slice(s * {input.Length}), gradientInputs.Slice(s * {copy}));");
            }
            else
            {
                string from = "p0";
                if (PadsInput)
                {
                    w.Line($"{plan.Pascal}Pad<TVector>(x.Slice(s * {input.Length}), padded);");
                }
                else
                {
                    from = $"MemoryMarshal.GetReference(x.Slice(s * {input.Length}, {input.Length} + TVector.Count - 1))";
                }

                w.Line($"Convolution.Compact<TVector>(ref {from}, ref Unsafe.Add(ref g0, s * {copy}), channels: {input.Channels}, kernelHeight: {KernelHeight}, kernelWidth: {KernelWidth}, inputWidth: {width}, inputPlane: {plane}, outputHeight: {output.Height}, outputWidth: {output.Width});");
            }

            w.Close();
            source = "g0";
            sample = copy;
            what = Strategy.CompactsWeightGradient ? "compacted(t, n)[q + m·" + output.Width + "], q = i·" + output.Width + " + j" : "padded(t, i + m, j + n)";
        }
        else
        {
            w.Line($"// The samples' inputs: a row's last vector reads up to Count − 1 floats past the last one, which this slice proves are there.");
            w.Line($"ref float x0 = ref MemoryMarshal.GetReference(x.Slice(0, count * {input.Length} + TVector.Count - 1));");
            source = "x0";
            sample = input.Length;
            what = "x(t, i + m, j + n)";
        }

        w.Line();
        string inGroup = Groups == 1 ? "" : $"In each group g, filters g·{groupFilters} … over channels g·{groupChannels} …: ";
        string number = CopiesGradientInputs ? "2" : "1";
        string tiles = KernelWidth <= 3 ? $"up to 6 filters × {KernelWidth} kernel column{(KernelWidth == 1 ? "" : "s")}" : "up to 4 filters × 5 kernel columns";
        w.Line($"// {number}. {inGroup}dL/dw(k, t, m, n) += Σ_s Σ_i Σ_j dL/dy_s(k, i, j) · {what}, over every sample at once, no unfold: register tiles of {tiles}, lane-wise sums over the pixels added up once per tile.");
        OpenGroups(w);
        long channelFloats = Strategy.CompactsWeightGradient ? (long)groupChannels * KernelWidth * CompactedHeight(output) * output.Width : (long)groupChannels * (CopiesGradientInputs ? plane : input.Height * input.Width);
        string dyAt = At("dy0", (long)groupFilters * pixels), xAt = At(source, channelFloats), dwAt = At("dw0", (long)groupFilters * groupRows);
        if (Strategy.CompactsWeightGradient)
        {
            w.Line($"Convolution.WeightGradientCompacted<TVector>({dyAt}, {output.Length}, {xAt}, {sample}, {dwAt}, count, filters: {groupFilters}, channels: {groupChannels}, kernelHeight: {KernelHeight}, kernelWidth: {KernelWidth}, outputHeight: {output.Height}, outputWidth: {output.Width});");
        }
        else
        {
            int inputWidth = CopiesGradientInputs ? width : input.Width, inputPlane = CopiesGradientInputs ? plane : input.Height * input.Width;
            w.Line($"Convolution.WeightGradient<TVector>({dyAt}, {output.Length}, {xAt}, {sample}, {dwAt}, count, filters: {groupFilters}, channels: {groupChannels}, kernelHeight: {KernelHeight}, kernelWidth: {KernelWidth}, inputWidth: {inputWidth}, inputPlane: {inputPlane}, outputHeight: {output.Height}, outputWidth: {output.Width});");
        }

        CloseGroups(w);
        EmitBiasGradientThenInputGradientSetup(w, plan);
        if (InputGradientSamples > 1)
        {
            w.Open(); // a scope of its own: the loops above declared their own s
            EmitPairedInputGradient(w, plan, CopiesGradientInputs ? 3 : 2);
            w.Close();
            return;
        }

        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"ref float dys0 = ref Unsafe.Add(ref dy0, s * {output.Length});");
        if (Strategy.DirectInputGradient)
        {
            w.Line($"ReadOnlySpan<float> dys = dy.Slice(s * {output.Length});");
        }

        EmitInputGradient(w, plan, CopiesGradientInputs ? 3 : 2, "dys0", "dys");
        w.Close();
    }

    /// <summary>
    /// After a dL/dw over all the call's samples at once: dL/db over them, the return where nobody asked for dL/dx, then
    /// <see cref="EmitInputGradientSetup"/>.
    /// </summary>
    private void EmitBiasGradientThenInputGradientSetup(SourceWriter w, LayerPlan plan)
    {
        if (HasBias)
        {
            w.Line();
            w.Line($"// dL/db(k) += Σ_s Σ_q dL/dy_s(k, q)");
            w.Line($"for (int s = 0; s < count; s++)");
            w.Open();
            w.Line($"ReadOnlySpan<float> dys = dy.Slice(s * {plan.Output.Length});");
            EmitBiasGradient(w, Pixels(plan.Output));
            w.Close();
        }

        w.Line();
        EmitExitWithoutInputGradient(w);
        w.Line();
        EmitInputGradientSetup(w, plan);
    }

    /// <summary>Before the samples' dL/dx (only asked for if computeDx): with a direct dL/dx, the weight turned once for all of them, and the references its kernel takes.</summary>
    private void EmitInputGradientSetup(SourceWriter w, LayerPlan plan)
    {
        if (!Strategy.DirectInputGradient)
        {
            return;
        }

        if (Strategy.WinogradInputGradient)
        {
            w.Line($"// dL/dx is the convolution of dL/dy with the weight turned, by Winograd's {WinogradName}: the turned weight transformed once per call.");
        }
        else
        {
            w.Line($"// dL/dx is the forward kernel over dL/dy spread into zero-bordered planes, with the weight turned (once per call).");
        }

        EmitTurnWeight(w, plan);
        EmitDirectInputGradientReferences(w, plan);
    }

    /// <summary>The weight turned for dL/dx, or for a Winograd dL/dx the turned weight's transform (unless made before the call).</summary>
    private void EmitTurnWeight(SourceWriter w, LayerPlan plan)
    {
        if (Strategy.WinogradInputGradient)
        {
            if (TurnedWeightPrepared)
            {
                w.Line($"// {TurnedTransformFormula}: turnedTransformed, made from the weight before the training call.");
            }
            else
            {
                EmitTransformTurnedWeight(w, plan);
            }

            return;
        }

        w.Line($"{plan.Pascal}Flip(weight, flippedWeight);");
    }

    /// <summary>The references a direct dL/dx's kernel takes: the turned weight, the zeros its sums start at, the spread planes, the compacted copy (by Winograd: the transform and workspaces).</summary>
    private void EmitDirectInputGradientReferences(SourceWriter w, LayerPlan plan)
    {
        if (Strategy.WinogradInputGradient)
        {
            EmitWinogradInputGradientReferences(w, plan);
            return;
        }

        w.Line($"ref float f0 = ref MemoryMarshal.GetReference(flippedWeight);");
        w.Line($"ref float z0 = ref MemoryMarshal.GetReference(zeros); // dL/dx has no bias: its sums start at zero");
        w.Line($"// The kernel reads up to Count − 1 floats past the planes' last row: this slice proves the buffer has them.");
        w.Line($"ref float sp0 = ref MemoryMarshal.GetReference(spreadGradient.Slice(0, {SpreadGradient(plan.Input, plan.Output).LongLength} + TVector.Count - 1));");
        if (Strategy.CompactsInputGradient)
        {
            w.Line($"ref float cg0 = ref MemoryMarshal.GetReference(compactedGradient.Slice(0, {CompactedGradient(plan.Input).LongLength} + TVector.Count - 1));");
        }
    }

    /// <summary>
    /// One sample's dL/dx, from dL/dy at <paramref name="dy"/> (a reference) and <paramref name="dys"/> (its span): the product
    /// wᵀ · dL/dy folded back (col2im), or with a direct dL/dx the forward kernel over dL/dy's spread planes.
    /// </summary>
    private void EmitInputGradient(SourceWriter w, LayerPlan plan, int step, string dy, string dys)
    {
        Shape input = plan.Input, output = plan.Output;
        int pixels = Pixels(output), groupRows = GroupRows(input), groupFilters = GroupFilters, groupChannels = GroupChannels(input);
        string inGroup = Groups == 1 ? "" : $"In each group g (filters k, and rows r of its {groupRows} input channels' taps): ";
        if (!Strategy.DirectInputGradient)
        {
            w.Line($"// {step}. {inGroup}dL/dcolumns(r, q) = Σ_k w(k, r) · dL/dy(k, q): [{groupRows}×{groupFilters}] (w transposed) · [{groupFilters}×{pixels}], tiles of 8 rows × 2 vectors, blocked for the caches, written over dL/dcolumns.");
            OpenGroups(w);
            w.Line($"Gemm.Multiply<TVector>({At("w0", (long)groupFilters * groupRows)}, 1, {groupRows}, {At(dy, (long)groupFilters * pixels)}, {pixels}, {At("dc0", (long)groupRows * pixels)}, {pixels}, m: {groupRows}, k: {groupFilters}, n: {pixels}, paddedTail: true);");
            CloseGroups(w);
            w.Line();
            w.Line($"// {step + 1}. Fold dL/dcolumns back into this sample's dL/dx (col2im).");
            if (FoldsWholeRows)
            {
                w.Line($"{plan.Pascal}Fold<TVector>(columnsGradient, dx.Slice(s * {input.Length})); // to the buffer's end: the last store may read and write back the slack");
            }
            else if (FoldsEvenOdd)
            {
                w.Line($"// Every row of the zero-padded dL/dx summed in registers and stored once (even and odd columns from the even and odd kernel columns, interleaved), then its inside copied out. The fold's last vectors write up to 2·Count − 1 floats past the planes, and its loads read up to Count − 1 + {KernelWidth / 2} floats past dL/dcolumns' last row: these slices prove the buffers have them.");
                EmitFoldStride2(w, plan, $"MemoryMarshal.GetReference({ColumnsGradientSlice(plan)})", pixels, "s");
            }
            else
            {
                w.Line($"{plan.Pascal}Fold(columnsGradient, dx.Slice(s * {input.Length}, {input.Length}));");
            }

            return;
        }

        if (Strategy.WinogradInputGradient)
        {
            EmitWinogradInputGradient(w, plan, step, dy);
            return;
        }

        (int spreadHeight, int spreadWidth) = SpreadSize(input, output);
        int spreadPlane = spreadHeight * spreadWidth, taps = KernelHeight * KernelWidth;
        w.Line($"// {step}. Spread dL/dy into its zero-bordered planes: spread(k, i + {KernelHeight - 1}, j + {KernelWidth - 1}) = dL/dy(k, i, j).");
        w.Line($"{plan.Pascal}Spread({dys}, spreadGradient);");
        w.Line();
        string group = Groups == 1 ? "" : $"In each group g, channels g·{groupChannels} … from filters g·{groupFilters} …: ";
        w.Line($"// {step + 1}. {group}dL/dx(t, u, v) = Σ_k Σ_m Σ_n flipped(t, k, m, n) · spread(k, u + {Padding} + m, v + {Padding} + n), flipped(t, k, m, n) = w(k, t, {KernelHeight - 1} − m, {KernelWidth - 1} − n): the forward kernel{(Strategy.CompactsInputGradient ? " (compacting)" : "")}, {groupChannels} filters over {groupFilters} channels, sums from zero.");
        w.Line($"ref float dx0 = ref MemoryMarshal.GetReference(dx.Slice(s * {input.Length})); // to the buffer's end: a masked store may read and write back the slack");
        OpenGroups(w);
        string weight = At("f0", (long)groupChannels * groupFilters * taps);
        string source = Groups == 1 ? $"ref Unsafe.Add(ref sp0, {Padding * spreadWidth + Padding})" : $"ref Unsafe.Add(ref sp0, g * {(long)groupFilters * spreadPlane}{Literal.Offset(Padding * spreadWidth + Padding)})";
        string shape = $"filters: {groupChannels}, channels: {groupFilters}, kernelHeight: {KernelHeight}, kernelWidth: {KernelWidth}, inputWidth: {spreadWidth}, inputPlane: {spreadPlane}, outputHeight: {input.Height}, outputWidth: {input.Width}";
        string to = At("dx0", (long)groupChannels * input.Height * input.Width);
        if (Strategy.CompactsInputGradient)
        {
            w.Line($"Convolution.ForwardCompacted<TVector>({weight}, ref z0, {source}, ref cg0, {to}, {shape});");
        }
        else
        {
            w.Line($"Convolution.Forward<TVector>({weight}, ref z0, {source}, {to}, {shape});");
        }

        CloseGroups(w);
    }

    /// <summary>dL/dcolumns with the slack the stride-2 fold's loads reach: up to Count − 1 + ⌊kw/2⌋ floats past its last row.</summary>
    private string ColumnsGradientSlice(LayerPlan plan) =>
        $"columnsGradient.Slice(0, {ColumnsGradient(plan.Input, plan.Output).LongLength + KernelWidth / 2} + TVector.Count - 1)";

    /// <summary>The stride-2 fold of one sample's dL/dcolumns (rows <paramref name="columnsRow"/> floats apart) into dL/dx of sample <paramref name="sample"/>.</summary>
    private void EmitFoldStride2(SourceWriter w, LayerPlan plan, string columns, int columnsRow, string sample)
    {
        Shape input = plan.Input, output = plan.Output;
        int height = input.Height + 2 * Padding, width = input.Width + 2 * Padding;
        w.Line($"Convolution.FoldStride2<TVector>(ref {columns}, ref MemoryMarshal.GetReference(paddedGradient.Slice(0, {PaddedGradient(input).LongLength} + 2 * TVector.Count - 1)), channels: {input.Channels}, kernelHeight: {KernelHeight}, kernelWidth: {KernelWidth}, outputHeight: {output.Height}, outputWidth: {output.Width}, paddedHeight: {height}, paddedWidth: {width}, columnsRow: {columnsRow});");
        w.Line($"{plan.Pascal}Unpad<TVector>(paddedGradient, dx.Slice({sample} * {input.Length}, {input.Length}));");
    }

    /// <summary>
    /// The backward pass over <see cref="SamplesPerProduct"/> samples at a time (see <see cref="MultipliesSamplesBackward"/>):
    /// dL/dwᵀ from their columns and dL/dyᵀ stacked, dL/dcolumns from their dL/dy side by side, then each sample folded.
    /// Declares <c>s</c>, the first sample left.
    /// </summary>
    private void EmitSeveralSamplesBackward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        int rows = Rows(input), pixels = Pixels(output), samples = SamplesPerProduct, columns = samples * pixels;
        w.Line($"ref float r0 = ref MemoryMarshal.GetReference(products);");
        w.Line($"ref float dcg0 = ref MemoryMarshal.GetReference({ColumnsGradientSlice(plan)});");
        OpenSampleGroups(w, samples, $"as in the forward pass, their {pixels}-pixel columns side by side in each product.");
        w.Line($"// 1. Unfold samples s … s + {samples - 1} into columns, side by side: columns(r, p·{pixels} + q) is sample s + p's.");
        w.Line($"{plan.Pascal}Unfold{UnfoldGeneric}(x.Slice(s * {input.Length}), columns{PaddedArgument}, samples: {samples});");
        w.Line();
        string biasGradient = HasBias ? "; dL/db(k) += Σ_q dL/dy(k, q) of each" : "";
        w.Line($"// 2. dL/dwᵀ(r, k) += Σ_c columns(r, c) · dL/dyᵀ(c, k), c = p·{pixels} + q over the {samples} samples: [{rows}×{columns}] · [{columns}×{Filters}], tiles of 8 rows × 2 vectors of filters{biasGradient}.");
        w.Line($"for (int p = 0; p < {samples}; p++)");
        w.Open();
        w.Line($"ReadOnlySpan<float> dys = dy.Slice((s + p) * {output.Length}, {output.Length});");
        w.Line($"Rows.Transpose(dys, {pixels}, {Filters}, {pixels}, outputGradientT.Slice(p * {pixels * Filters}), {Filters}); // dL/dyᵀ(p·{pixels} + q, k) = dL/dy(k, q) of sample s + p");
        EmitBiasGradient(w, pixels);
        w.Close();
        w.Line();
        w.Line($"Gemm.MultiplyAdd<TVector>(ref c0, {columns}, 1, ref dyT0, {Filters}, ref dwT0, {Filters}, m: {rows}, k: {columns}, n: {Filters}, paddedTail: true);");
        w.Line();
        EmitExitWithoutInputGradient(w, "continue");
        w.Line();
        w.Line($"// 3. dL/dcolumns(r, c) = Σ_k w(k, r) · dL/dy(k, c), the samples' dL/dy side by side in products: [{rows}×{Filters}] (w transposed) · [{Filters}×{columns}], tiles of 8 rows × 2 vectors, blocked for the caches, written over dL/dcolumns.");
        w.Line($"Rows.Stack(dy.Slice(s * {output.Length}, {samples * output.Length}), {Filters}, {samples}, {pixels}, products);");
        w.Line($"Gemm.Multiply<TVector>(ref w0, 1, {rows}, ref r0, {columns}, ref dc0, {columns}, m: {rows}, k: {Filters}, n: {columns}, paddedTail: true);");
        w.Line();
        w.Line($"// 4. Fold each sample's columns of dL/dcolumns back into its dL/dx (col2im), as one by one below.");
        w.Line($"for (int p = 0; p < {samples}; p++)");
        w.Open();
        EmitFoldStride2(w, plan, $"Unsafe.Add(ref dcg0, p * {pixels})", columns, "(s + p)");
        w.Close();
        w.Close();
    }

    /// <summary>dL/db(k) += Σ_q dL/dy(k, q), for a layer with a bias.</summary>
    private void EmitBiasGradient(SourceWriter w, int pixels)
    {
        if (!HasBias)
        {
            return;
        }

        w.Line($"for (int k = 0; k < {Filters}; k++)");
        w.Open();
        w.Line($"biasGradient[k] += TensorPrimitives.Sum(dys.Slice(k * {pixels}, {pixels}));");
        w.Close();
    }

    /// <summary>
    /// A depthwise backward pass: dL/dw by <c>DepthwiseConvolution.WeightGradient</c>; dL/dx as the forward kernel over dL/dy
    /// spread into zero-bordered planes, with each kernel turned by 180° (a transposed convolution written as a plain one).
    /// </summary>
    private void EmitDepthwiseBackward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        int height = input.Height + 2 * Padding, width = input.Width + 2 * Padding, plane = height * width;
        int pixels = Pixels(output), multiplier = GroupFilters;
        (int spreadHeight, int spreadWidth) = SpreadSize(input, output);
        int spreadPlane = spreadHeight * spreadWidth;
        w.Line($"ref float dw0 = ref MemoryMarshal.GetReference(weightGradient);");
        if (PadsInput)
        {
            w.Line($"// The kernels read up to {ReadPast} floats past a buffer's last row: these slices prove the buffers have them.");
            w.Line($"ref float p0 = ref MemoryMarshal.GetReference({PaddedSlice(input)});");
        }
        else
        {
            w.Line($"// The kernels read up to {ReadPast} floats past a buffer's last row: this slice proves the buffer has them.");
        }

        w.Line($"ref float g0 = ref MemoryMarshal.GetReference(spreadGradient.Slice(0, {Filters * spreadPlane} + TVector.Count - 1));");
        w.Line($"ref float f0 = ref MemoryMarshal.GetReference(flippedWeight);");
        w.Line($"float zero = 0f; // dL/dx has no bias: its sums start at zero");
        w.Line($"if (computeDx)");
        w.Open();
        w.Line($"{plan.Pascal}Flip(weight, flippedWeight);");
        w.Close();
        w.Line();
        if (PadsInput)
        {
            w.Line($"// Last sample first: the forward pass left its padded copy in place, so only the others are padded again.");
        }

        w.Line($"for (int s = count - 1; s >= 0; s--)");
        w.Open();
        w.Line($"ReadOnlySpan<float> xs = x.Slice(s * {input.Length}); // to the buffer's end (see the forward pass)");
        w.Line($"ReadOnlySpan<float> dys = dy.Slice(s * {output.Length}); // to the buffer's end: a row's last vector may read into the slack");
        w.Line($"ref float dy0 = ref MemoryMarshal.GetReference(dys.Slice(0, {output.Length} + TVector.Count - 1));");
        if (PadsInput)
        {
            w.Line($"if (s != count - 1)");
            w.Open();
            w.Line($"{plan.Pascal}Pad<TVector>(xs, padded);");
            w.Close();
        }

        w.Line();
        string sx = PadsInput ? "padded" : "x";
        string i = Stride == 1 ? "i" : $"{Stride}·i", j = Stride == 1 ? "j" : $"{Stride}·j";
        w.Line($"// 1. dL/dw(k, 0, m, n) += Σ_i Σ_j dL/dy(k, i, j) · {sx}({ChannelOf("k")}, {i} + m, {j} + n): {(Stride == 1 && KernelHeight == 3 && KernelWidth == 3 ? "the 9 taps' sums in registers, each input row loaded once for the 3 rows of dL/dy it meets" : "tiles of 4 taps × 2 output rows, each vector of dL/dy loaded once")}{(HasBias ? "; dL/db(k) += Σ_q dL/dy(k, q)" : "")}.");
        w.Line($"DepthwiseConvolution.WeightGradient<TVector>(ref dy0, ref {DepthwiseSource(input)}, ref dw0, outputs: {Filters}, multiplier: {multiplier}, kernelHeight: {KernelHeight}, kernelWidth: {KernelWidth}, stride: {Stride}, inputWidth: {width}, inputPlane: {plane}, outputHeight: {output.Height}, outputWidth: {output.Width});");
        EmitBiasGradient(w, pixels);
        w.Line();
        EmitExitWithoutInputGradient(w, "continue");
        w.Line();
        w.Line($"// 2. Spread dL/dy into its zero-bordered planes: spread(k, {i} + {KernelHeight - 1}, {j} + {KernelWidth - 1}) = dL/dy(k, i, j).");
        w.Line($"{plan.Pascal}Spread(dys, spreadGradient);");
        w.Line();
        w.Line($"// 3. dL/dx(t, u, v) = Σ_c Σ_m Σ_n flipped(t·{multiplier} + c, m, n) · spread(t·{multiplier} + c, u + {Padding} + m, v + {Padding} + n), flipped(k, m, n) = w(k, 0, {KernelHeight - 1} − m, {KernelWidth - 1} − n): the forward kernel, each channel's gradient summing its {multiplier} filter{(multiplier == 1 ? "" : "s")}' planes.");
        w.Line($"ref float dx0 = ref MemoryMarshal.GetReference(dx.Slice(s * {input.Length})); // to the buffer's end: a masked store may read and write back the slack");
        w.Line($"DepthwiseConvolution.Forward<TVector>(ref f0, ref zero, 0, ref Unsafe.Add(ref g0, {Padding * spreadWidth + Padding}), ref dx0, outputs: {input.Channels}, multiplier: 1, channels: {multiplier}, kernelHeight: {KernelHeight}, kernelWidth: {KernelWidth}, stride: 1, inputWidth: {spreadWidth}, inputPlane: {spreadPlane}, outputHeight: {input.Height}, outputWidth: {input.Width});");
        w.Close();
    }

    /// <summary>
    /// The unfold (im2col) and fold (col2im) methods, shared by the forward and backward passes: one block per
    /// kernel tap, its ranges computed here, so a reader checks the index arithmetic once.
    /// </summary>
    public override void EmitHelpers(SourceWriter w, LayerPlan plan)
    {
        if (EmitsPad)
        {
            EmitPad(w, plan);
        }

        if (!Strategy.ConvolvesDepthwise && EmitsUnfold)
        {
            EmitUnfold(w, plan);
        }

        if (Strategy.ConvolvesDepthwise || Strategy.DirectInputGradient)
        {
            // dL/dx is a forward kernel over dL/dy spread into zero-bordered planes, with the weight turned (by Winograd:
            // zero-bordered as it gathers them, the turned weight transformed straight from the weight).
            if (!Strategy.WinogradInputGradient)
            {
                EmitFlip(w, plan);
                EmitSpread(w, plan);
            }

            return;
        }

        if (FoldsWholeRows)
        {
            EmitWholeRowFold(w, plan);
        }
        else if (FoldsEvenOdd)
        {
            EmitUnpad(w, plan);
        }
        else
        {
            w.Line($"// {plan.Name} fold (col2im): dL/dx(t, {Index("i", Stride, Padding)}, {Index("j", Stride, Padding)}) = Σ dL/dcolumns(r, q) over the taps that read it; taps in the padding drop out.");
            w.Line($"{NetworkEmitter.Optimized}");
            w.Line($"private static void {plan.Pascal}Fold(ReadOnlySpan<float> columnsGradient, Span<float> dxs)");
            w.Open();
            w.Line($"dxs.Clear();");
            EmitTapLoops(w, plan, TapPass.Fold);
            w.Close();
        }

        w.Line();
    }

    /// <summary>Whether a pass unfolds the input (im2col): this layer's own forward pass unless it convolves directly, the backward pass unless its dL/dw is direct or by Winograd.</summary>
    private bool EmitsUnfold => (!FormRunsForward && !Strategy.ConvolvesDirectly) || BackwardUnfolds;

    private void EmitUnfold(SourceWriter w, LayerPlan plan)
    {
        string samples = SamplesPerProduct > 1 ? $"; with several samples, side by side: column p·{Pixels(plan.Output)} + q of each row is sample p's" : "";
        w.Line($"// {plan.Name} unfold (im2col): columns(r, q) = x(t, {Index("i", Stride, Padding)}, {Index("j", Stride, Padding)}), row r = (t·{KernelHeight} + m)·{KernelWidth} + n, column q = i·{plan.Output.Width} + j{samples}.");
        if (UnfoldsWholeRows)
        {
            w.Line($"// Every tap reads whole rows{(PadsInput ? " of the zero-padded copy" : "")}, so every column of every row is written.");
        }
        else
        {
            w.Line($"// Taps that read padding are never written and stay zero (the buffer starts zeroed).");
        }

        w.Line($"{NetworkEmitter.Optimized}");
        w.Line($"private static void {plan.Pascal}Unfold{UnfoldGeneric}(ReadOnlySpan<float> xs, Span<float> columns{(PadsInput ? ", Span<float> padded" : "")}{(SamplesPerProduct > 1 ? ", int samples" : "")})");
        if (UnfoldsWholeRows)
        {
            w.Line($"    where TVector : struct, IFloatVector<TVector>");
            w.Open();
            EmitWholeRowUnfold(w, plan);
        }
        else
        {
            w.Open();
            EmitTapLoops(w, plan, TapPass.Unfold);
        }

        w.Close();
        w.Line();
    }

    /// <summary>
    /// The weight with each kernel turned by 180° and its filter and channel axes swapped, for a dL/dx computed by a forward
    /// kernel: flipped(t, k, m, n) = w(k, t, kh − 1 − m, kw − 1 − n) in each group. With one input channel per group
    /// (depthwise) that is each filter's kernel turned in place.
    /// </summary>
    private void EmitFlip(SourceWriter w, LayerPlan plan)
    {
        int taps = KernelHeight * KernelWidth, groupChannels = GroupChannels(plan.Input), groupFilters = GroupFilters;
        if (groupChannels == 1)
        {
            w.Line($"// {plan.Name} kernels turned by 180°: flipped(k, m, n) = w(k, 0, {KernelHeight - 1} − m, {KernelWidth - 1} − n), tap r = m·{KernelWidth} + n taking tap {taps - 1} − r.");
        }
        else
        {
            w.Line($"// {plan.Name} weight turned for dL/dx: flipped({(Groups == 1 ? "" : $"g·{groupChannels} + ")}t, k, m, n) = w({(Groups == 1 ? "" : $"g·{groupFilters} + ")}k, t, {KernelHeight - 1} − m, {KernelWidth - 1} − n), tap r = m·{KernelWidth} + n taking tap {taps - 1} − r{(Groups == 1 ? "" : " (in each group g)")}.");
        }

        w.Line($"{NetworkEmitter.Optimized}");
        w.Line($"private static void {plan.Pascal}Flip(ReadOnlySpan<float> weight, Span<float> flippedWeight)");
        w.Open();
        if (groupChannels == 1)
        {
            w.Line($"for (int k = 0; k < {Filters}; k++)");
            w.Open();
            w.Line($"for (int r = 0; r < {taps}; r++)");
            w.Open();
            w.Line($"flippedWeight[k * {taps} + r] = weight[k * {taps} + {taps - 1} - r];");
            w.Close();
            w.Close();
        }
        else
        {
            OpenGroups(w);
            w.Line($"for (int t = 0; t < {groupChannels}; t++)");
            w.Open();
            w.Line($"for (int k = 0; k < {groupFilters}; k++)");
            w.Open();
            w.Line($"for (int r = 0; r < {taps}; r++)");
            w.Open();
            string to = Groups == 1 ? $"(t * {groupFilters} + k) * {taps} + r" : $"((g * {groupChannels} + t) * {groupFilters} + k) * {taps} + r";
            string from = Groups == 1 ? $"(k * {groupChannels} + t) * {taps} + {taps - 1} - r" : $"((g * {groupFilters} + k) * {groupChannels} + t) * {taps} + {taps - 1} - r";
            w.Line($"flippedWeight[{to}] = weight[{from}];");
            w.Close();
            w.Close();
            w.Close();
            CloseGroups(w);
        }

        w.Close();
        w.Line();
    }

    /// <summary>
    /// dL/dy into the middle of zero-bordered planes, each value at (stride·i + kh − 1, stride·j + kw − 1): over them, the forward
    /// kernel with the turned weights gives dL/dx(t, u, v) by reading from (u + p, v + p). The planes are large enough for every
    /// read (≥ height + p + kh − 1 rows); the positions written are the same for every sample, so the rest stays zero.
    /// </summary>
    private void EmitSpread(SourceWriter w, LayerPlan plan)
    {
        Shape output = plan.Output;
        (int height, int width) = SpreadSize(plan.Input, output);
        int first = (KernelHeight - 1) * width + KernelWidth - 1;
        string at = Stride == 1 ? "i + m0, j + n0" : $"{Stride}·i + m0, {Stride}·j + n0";
        w.Line($"// {plan.Name} dL/dy spread: spread(k, {at}) = dL/dy(k, i, j), m0 = {KernelHeight - 1}, n0 = {KernelWidth - 1}, in planes of {height}×{width} whose other floats stay zero.");
        w.Line($"{NetworkEmitter.Optimized}");
        w.Line($"private static void {plan.Pascal}Spread(ReadOnlySpan<float> dys, Span<float> spreadGradient)");
        w.Open();
        w.Line($"for (int k = 0; k < {Filters}; k++)");
        w.Open();
        w.Line($"for (int i = 0; i < {output.Height}; i++)");
        w.Open();
        if (Stride == 1)
        {
            w.Line($"dys.Slice(k * {Pixels(output)} + i * {output.Width}, {output.Width}).CopyTo(spreadGradient.Slice(k * {height * width} + i * {width}{Literal.Offset(first)}, {output.Width}));");
        }
        else
        {
            w.Line($"for (int j = 0; j < {output.Width}; j++)");
            w.Open();
            w.Line($"spreadGradient[k * {height * width} + i * {Stride * width} + j * {Stride}{Literal.Offset(first)}] = dys[k * {Pixels(output)} + i * {output.Width} + j];");
            w.Close();
        }

        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }

    /// <summary>The sample into the middle of its zero-padded copy, for the unfold and the direct forward pass.</summary>
    private void EmitPad(SourceWriter w, LayerPlan plan) => EmitPaddedRows(w, plan, intoPadded: true);

    /// <summary>dL/dx out of the middle of its zero-padded planes, after a stride-2 fold.</summary>
    private void EmitUnpad(SourceWriter w, LayerPlan plan) => EmitPaddedRows(w, plan, intoPadded: false);

    /// <summary>
    /// A method copying every row of a sample into the middle of its zero-padded planes (<c>{Layer}Pad</c>) or out of them
    /// (<c>{Layer}Unpad</c>).
    /// </summary>
    private void EmitPaddedRows(SourceWriter w, LayerPlan plan, bool intoPadded)
    {
        Shape input = plan.Input;
        int height = input.Height + 2 * Padding, width = input.Width + 2 * Padding, plane = height * width;
        string middle = Padding == 0 ? "" : $".Slice({Padding * width + Padding})";
        string sizes = $"planes: {input.Channels}, rows: {input.Height}, width: {input.Width}";
        if (intoPadded)
        {
            w.Line($"// {plan.Name} padding: the sample into the middle of its zero-padded copy ({input.Channels}×{height}×{width}): padded(t, u + {Padding}, v + {Padding}) = x(t, u, v); the border is never written and stays zero.");
            w.Line($"{NetworkEmitter.Optimized}");
            w.Line($"private static void {plan.Pascal}Pad<TVector>(ReadOnlySpan<float> xs, Span<float> padded)");
            w.Line($"    where TVector : struct, IFloatVector<TVector> =>");
            w.Line($"    Rows.CopyRows<TVector>(xs, {input.Width}, {input.Height * input.Width}, padded{middle}, {width}, {plane}, {sizes});");
        }
        else
        {
            w.Line($"// {plan.Name} dL/dx out of the middle of its zero-padded planes ({input.Channels}×{height}×{width}): dL/dx(t, u, v) = padded(t, u + {Padding}, v + {Padding}).");
            w.Line($"{NetworkEmitter.Optimized}");
            w.Line($"private static void {plan.Pascal}Unpad<TVector>(ReadOnlySpan<float> paddedGradient, Span<float> dxs)");
            w.Line($"    where TVector : struct, IFloatVector<TVector> =>");
            w.Line($"    Rows.CopyRows<TVector>(paddedGradient{middle}, {width}, {plane}, dxs, {input.Width}, {input.Height * input.Width}, {sizes});");
        }

        w.Line();
    }

    /// <summary>With stride 1 the fold sums each row of dL/dx in registers (see <see cref="EmitWholeRowFold"/>), so it is generic over the width.</summary>
    private bool FoldsWholeRows => Stride == 1;

    /// <summary>
    /// Stride-1 fold: dL/dx(t, u, v) = Σ_m Σ_n dL/dcolumns((t·kh + m)·kw + n, (u + p − m)·ow + v + p − n). Each row of dL/dx is
    /// summed in a register, a vector of columns v at a time, and stored once: tap (m, n) loads its row of dL/dcolumns shifted by
    /// n − p and keeps the lanes whose column exists (a lane mask), so no float of dL/dx is read, modified and written back
    /// (which, with overlapping rows, stalls on store forwarding). A store may run up to Count − 1 floats into the next row,
    /// which is written next; near the sample's end only the sample's own floats are written (the next sample's dL/dx is done).
    /// </summary>
    private void EmitWholeRowFold(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        int plane = input.Height * input.Width, taps = KernelHeight * KernelWidth, pixels = Pixels(output);
        int length = input.Channels * plane, ow = output.Width;
        w.Line($"// {plan.Name} fold (col2im): dL/dx(t, u, v) = Σ_m Σ_n dL/dcolumns((t·{KernelHeight} + m)·{KernelWidth} + n, {Shifted("u", "m")}·{ow} + {Shifted("v", "n")}) over 0 ≤ {Shifted("u", "m")} < {output.Height}, 0 ≤ {Shifted("v", "n")} < {ow}.");
        w.Line($"// Each row of dL/dx is summed in registers, a vector of columns at a time, and stored once: tap (m, n) loads its dL/dcolumns row shifted by {(Padding == 0 ? "n" : $"n − {Padding}")} and keeps the lanes whose column exists. A store may run into the next row, which is written next.");
        w.Line($"{NetworkEmitter.Optimized}");
        w.Line($"private static void {plan.Pascal}Fold<TVector>(ReadOnlySpan<float> columnsGradient, Span<float> dxs)");
        w.Line($"    where TVector : struct, IFloatVector<TVector>");
        w.Open();
        w.Line($"// Reads run up to Count − 1 floats past the last row, and so may the last store: these slices prove the buffers have them.");
        w.Line($"ref float c0 = ref MemoryMarshal.GetReference(columnsGradient.Slice(0, {Rows(input) * pixels} + TVector.Count - 1));");
        w.Line($"ref float dx0 = ref MemoryMarshal.GetReference(dxs.Slice(0, {length} + TVector.Count - 1));");
        w.Line($"for (int t = 0; t < {input.Channels}; t++)");
        w.Open();
        w.Line($"ref float ct = ref Unsafe.Add(ref c0, t * {taps * pixels});");
        w.Line($"for (int u = 0; u < {input.Height}; u++)");
        w.Open();
        w.Line($"// kernel rows m that reach row u: 0 ≤ {Shifted("u", "m")} < {output.Height}");
        w.Line($"int mFirst = Math.Max(0, u{Literal.Offset(Padding - (output.Height - 1))}), mEnd = Math.Min({KernelHeight}, u{Literal.Offset(Padding + 1)});");
        w.Line($"for (int v = 0; v < {input.Width}; v += TVector.Count)");
        w.Open();
        w.Line($"// kernel columns n with a lane l whose column {Shifted("v + l", "n")} is inside 0..{ow - 1}");
        w.Line($"TVector sum = TVector.Zero;");
        w.Line($"int nEnd = Math.Min({KernelWidth}, v + TVector.Count{Literal.Offset(Padding)});");
        w.Line($"for (int n = Math.Max(0, v{Literal.Offset(Padding - (ow - 1))}); n < nEnd; n++)");
        w.Open();
        w.Line($"TVector keep = TVector.LaneMask(n - v{Literal.Offset(-Padding)}, n - v{Literal.Offset(ow - Padding)});");
        w.Line($"// taps (m, n), m = mFirst…: row m·{KernelWidth} + n, column {Shifted("u", "m")}·{ow} + {Shifted("v", "n")}; each m one tap row ({KernelWidth * pixels} floats) on and one output row ({ow}) back");
        w.Line($"ref float tap = ref Unsafe.Add(ref ct, n * {pixels - 1} + u * {ow} + v{Literal.Offset(Padding * ow + Padding)});");
        w.Line($"for (int m = mFirst; m < mEnd; m++)");
        w.Open();
        w.Line($"sum = TVector.Add(sum, TVector.Masked(TVector.Load(ref Unsafe.Add(ref tap, m * {KernelWidth * pixels - ow})), keep));");
        w.Close();
        w.Close();
        w.Line();
        w.Line($"int at = t * {plane} + u * {input.Width} + v;");
        w.Line($"if (at <= {length} - TVector.Count)");
        w.Open();
        w.Line($"TVector.Store(sum, ref Unsafe.Add(ref dx0, at));");
        w.Close();
        w.Line($"else");
        w.Open();
        w.Line($"TVector.StoreLanes(sum, ref Unsafe.Add(ref dx0, at), 0, {length} - at); // the sample's end: the floats after it are the next sample's");
        w.Close();
        w.Close();
        w.Close();
        w.Close();
        w.Close();
    }

    /// <summary>The output index that reads input index <paramref name="i"/> at kernel offset <paramref name="k"/> (stride 1): i + p − k.</summary>
    private string Shifted(string i, string k) => Padding == 0 ? $"({i} − {k})" : $"({i} + {Padding} − {k})";

    /// <summary>With stride 1 or 2 the unfold copies whole rows in vectors (<c>Rows.CopyWhole</c>, <c>Rows.CopyEven</c>), so it is generic over the width.</summary>
    private bool UnfoldsWholeRows => Stride <= 2;

    private string UnfoldGeneric => UnfoldsWholeRows ? "<TVector>" : "";

    /// <summary>
    /// Stride-1 or -2 unfold: every tap (t, m, n) fills its row block of columns completely, output row after output row, each
    /// from one input row (of the padded copy, with padding; with stride 2, its every other float). Rows are copied in whole
    /// vectors: a copy may run up to Count − 1 floats past its row, into the next one, which is written next; the last row of
    /// the last tap runs into the buffer's slack. No branch, no library call per row, and nothing in columns depends on an
    /// earlier unfold.
    /// </summary>
    private void EmitWholeRowUnfold(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        int taps = KernelHeight * KernelWidth, pixels = Pixels(output);
        int height = input.Height + 2 * Padding, width = input.Width + 2 * Padding, plane = height * width;
        string source = PadsInput ? "padded" : "xs";
        bool several = SamplesPerProduct > 1;
        if (PadsInput && several)
        {
            w.Line($"for (int p = 0; p < samples; p++)");
            w.Open();
            w.Line($"{plan.Pascal}Pad<TVector>(xs.Slice(p * {input.Length}), padded.Slice(p * {input.Channels * plane}));");
            w.Close();
            w.Line();
        }
        else if (PadsInput)
        {
            w.Line($"{plan.Pascal}Pad<TVector>(xs, padded);");
            w.Line();
        }

        string readPast = Stride == 1 ? "TVector.Count - 1" : $"{Stride} * TVector.Count - 1";
        if (Stride == 1)
        {
            w.Line($"// Reads and writes run up to Count − 1 floats past the last row: these slices prove the buffers have them.");
        }
        else
        {
            w.Line($"// Reads run up to {Stride}·Count − 1 floats past the last row, writes up to Count − 1: these slices prove the buffers have them.");
        }

        string copy = $"Rows.{(Stride == 1 ? "CopyWhole" : "CopyEven")}<TVector>(ref Unsafe.Add(ref from, i * {Stride * width}), ref Unsafe.Add(ref to, i * {output.Width}), {output.Width});";
        string read = $"{(PadsInput ? "padded" : "x")}(t, {(Stride == 1 ? "i" : $"{Stride}·i")} + m, {(Stride == 1 ? "j" : $"{Stride}·j")} + n)";
        string times = several ? "samples * " : "";
        w.Line($"ref float x0 = ref MemoryMarshal.GetReference({source}.Slice(0, {times}{input.Channels * plane} + {readPast}));");
        w.Line($"ref float c0 = ref MemoryMarshal.GetReference(columns.Slice(0, {times}{input.Channels * taps * pixels} + TVector.Count - 1));");
        if (several)
        {
            w.Line($"int row = samples * {pixels}; // floats per row of columns: the samples side by side");
        }

        w.Line($"for (int t = 0; t < {input.Channels}; t++)");
        w.Open();
        w.Line($"ref float xt = ref Unsafe.Add(ref x0, t * {plane});");
        string columnsRow = several ? $"ref float ct = ref Unsafe.Add(ref c0, t * {taps} * row);" : $"ref float ct = ref Unsafe.Add(ref c0, t * {taps * pixels});";
        w.Line($"{columnsRow}");
        w.Line($"for (int m = 0; m < {KernelHeight}; m++)");
        w.Open();
        w.Line($"for (int n = 0; n < {KernelWidth}; n++)");
        w.Open();
        if (several)
        {
            w.Line($"// tap (m, n), columns row r = m·{KernelWidth} + n: columns(r, p·{pixels} + i·{output.Width} + j) = {read} of sample p; each sample's run of rows spills into the next one's, written next");
            w.Line($"for (int p = 0; p < samples; p++)");
            w.Open();
            w.Line($"ref float from = ref Unsafe.Add(ref xt, p * {input.Channels * plane} + m * {width} + n);");
            w.Line($"ref float to = ref Unsafe.Add(ref ct, (m * {KernelWidth} + n) * row + p * {pixels});");
        }
        else
        {
            w.Line($"// tap (m, n), columns row r = m·{KernelWidth} + n: columns(r, i·{output.Width} + j) = {read}");
            w.Line($"ref float from = ref Unsafe.Add(ref xt, m * {width} + n);");
            w.Line($"ref float to = ref Unsafe.Add(ref ct, (m * {KernelWidth} + n) * {pixels});");
        }

        w.Line($"for (int i = 0; i < {output.Height}; i++)");
        w.Open();
        w.Line($"{copy}");
        w.Close();
        if (several)
        {
            w.Close();
        }

        w.Close();
        w.Close();
        w.Close();
    }

    private enum TapPass
    {
        /// <summary>x → columns (rows: input channel and tap; columns: output pixel).</summary>
        Unfold,

        /// <summary>columnsGradient → dx, added.</summary>
        Fold,
    }

    /// <summary>
    /// With a stride above 1, the im2col copy and the col2im sum, one block per kernel tap (m, n), inside a loop over
    /// input channels. For each tap the output rows i and columns j that read inside the input are computed here, so
    /// the emitted loops have no bounds tests.
    /// </summary>
    private void EmitTapLoops(SourceWriter w, LayerPlan plan, TapPass pass)
    {
        Shape input = plan.Input, output = plan.Output;
        int plane = input.Height * input.Width, taps = KernelHeight * KernelWidth, pixels = Pixels(output);
        w.Line($"for (int t = 0; t < {input.Channels}; t++)");
        w.Open();
        switch (pass)
        {
            case TapPass.Unfold:
                w.Line($"ReadOnlySpan<float> xt = xs.Slice(t * {plane}, {plane});");
                w.Line($"Span<float> ct = columns.Slice(t * {taps * pixels}, {taps * pixels});");
                break;
            default:
                w.Line($"Span<float> dxt = dxs.Slice(t * {plane}, {plane});");
                w.Line($"ReadOnlySpan<float> ct = columnsGradient.Slice(t * {taps * pixels}, {taps * pixels});");
                break;
        }

        for (int m = 0; m < KernelHeight; m++)
        {
            for (int n = 0; n < KernelWidth; n++)
            {
                int row = m * KernelWidth + n;
                (int i0, int i1) = ValidRange(m, input.Height, output.Height);
                (int j0, int j1) = ValidRange(n, input.Width, output.Width);
                if (i0 >= i1 || j0 >= j1)
                {
                    w.Line($"// tap ({m}, {n}): reads only padding.");
                    continue;
                }

                // Output (i, j) reads input (i·s + m − p, j·s + n − p).
                int rowBase = row * pixels;
                int sourceBase = (m - Padding) * input.Width + (n - Padding);
                w.Line($"// tap ({m}, {n}): output rows {i0}..{i1 - 1}, columns {j0}..{j1 - 1}");
                w.Line($"for (int i = {i0}; i < {i1}; i++)");
                w.Open();
                w.Line($"for (int j = {j0}; j < {j1}; j++)");
                w.Open();
                string src = $"i * {Stride * input.Width} + j * {Stride}{Literal.Offset(sourceBase)}";
                string dst = $"i * {output.Width} + j{Literal.Offset(rowBase)}";
                if (pass == TapPass.Unfold)
                {
                    w.Line($"ct[{dst}] = xt[{src}];");
                }
                else
                {
                    w.Line($"dxt[{src}] += ct[{dst}];");
                }

                w.Close();

                w.Close();
            }
        }

        w.Close();
    }

    /// <summary>The output indices [first, end) whose tap at kernel offset <paramref name="k"/> reads inside an input of <paramref name="size"/>.</summary>
    private (int First, int End) ValidRange(int k, int size, int outputSize)
    {
        // Need 0 ≤ i·s + k − p ≤ size − 1.
        int first = Padding - k <= 0 ? 0 : (Padding - k + Stride - 1) / Stride;
        int last = (size - 1 + Padding - k) < 0 ? -1 : (size - 1 + Padding - k) / Stride;
        return (first, System.Math.Min(last + 1, outputSize));
    }

    private int Rows(Shape input) => input.Channels * KernelHeight * KernelWidth;

    /// <summary>Input channels per group (each filter's).</summary>
    private int GroupChannels(Shape input) => input.Channels / Groups;

    /// <summary>Filters per group (a depthwise convolution's channel multiplier).</summary>
    private int GroupFilters => Filters / Groups;

    /// <summary>One filter's taps: its group's channels × kh × kw (the rows of one group's block of the unfold).</summary>
    private int GroupRows(Shape input) => GroupChannels(input) * KernelHeight * KernelWidth;

    /// <summary>Whether each filter reads one input channel (groups = input channels, PyTorch's depthwise convolution).</summary>
    private bool IsDepthwise(Shape input) => Groups > 1 && GroupChannels(input) == 1;

    private static int Pixels(Shape output) => output.Height * output.Width;

    private static string Index(string i, int stride, int padding) =>
        (stride == 1 ? i : $"{i}·{stride}") + " + " + (i == "i" ? "m" : "n") + (padding == 0 ? "" : $" − {padding}");
}
