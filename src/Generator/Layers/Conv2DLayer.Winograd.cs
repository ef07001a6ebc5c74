using System;
using System.Collections.Generic;
using System.Linq;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;

namespace NetGen.Generator.Layers;

/// <summary>
/// Conv2D's Winograd form: a 3×3 or 5×5 stride-1 convolution computes by Winograd's F(2×2, r×r) (<c>Winograd.Forward</c>)
/// where <see cref="ConvolutionStrategy.WinogradPays"/>, in the inference passes (with a BatchNorm folded in, or not) and in
/// the training forward pass (the one training shares in a network that does not train in stages; its own,
/// <see cref="TrainingForm"/>, in one that does); over its weight (or the folded one) transformed once each time the
/// parameters may have changed (<see cref="EmitPrepareForm"/>), or before each training call. Its dL/dx and dL/dw by the
/// same forms are here too.
/// </summary>
internal sealed partial record Conv2DLayer
{
    /// <summary>Positions ξ of a transformed (r + 1)×(r + 1) tile: the products per sample.</summary>
    private int WinogradPositions => (KernelHeight + 1) * (KernelHeight + 1);

    /// <summary>The form's name, F(2×2, r×r).</summary>
    private string WinogradName => $"F(2×2, {KernelHeight}×{KernelHeight})";

    /// <summary>
    /// Whether the Winograd form pays here, with a bias to start from (a fold's form always has one). In training passes only
    /// in place of a direct forward pass: the unfolding one leaves the last sample's unfold for the backward pass to reuse.
    /// </summary>
    private bool WinogradFormPays(Shape input, bool training) =>
        HasBias && !AddsResidual && !Rectifies && (!training || Strategy.ConvolvesDirectly)
        && ConvolutionStrategy.WinogradPays(input.Channels, Filters, Groups, KernelHeight, KernelWidth, Stride);

    /// <summary>
    /// Whether a Winograd dL/dx reads its turned weight's transform as an operand, made once before each training call
    /// (<see cref="TrainingPrepared"/>), instead of making it in every backward call.
    /// </summary>
    public bool TurnedWeightPrepared { get; init; }

    public override IReadOnlyList<ParameterTensor> TrainingPrepared(Shape input, Shape output) =>
        Strategy.WinogradInputGradient ? [TurnedTransformedWeight(input)] : [];

    public override Layer WithTrainingPrepared() => Strategy.WinogradInputGradient ? this with { TurnedWeightPrepared = true } : this;

    public override void EmitPrepareTraining(SourceWriter w, LayerPlan plan)
    {
        if (Strategy.WinogradInputGradient)
        {
            EmitTransformTurnedWeight(w, plan);
        }
    }

    /// <summary>
    /// The Winograd form without the output steps folded into it, where the layer's own forward pass convolves directly (and
    /// so leaves no unfold for the backward pass): the same convolution in 4/9 of the multiplies for a 3×3 kernel
    /// (<see cref="ConvolutionStrategy.WinogradPays"/>), over the layer's weight transformed once per training call.
    /// </summary>
    public override Layer? TrainingForm(Layer inferenceForm) =>
        inferenceForm is Conv2DLayer { Strategy.Winograd: true } form && Strategy.ConvolvesDirectly
            ? form with { AddsResidual = false, Rectifies = false }
            : null;

    /// <summary>Tiles (2 outputs each) along a side of <paramref name="output"/> outputs.</summary>
    private static int WinogradTiles(int output) => (output + 1) / 2;

    /// <summary>U(ξ, t, k) = (G w(k, t) Gᵀ)(ξ): (r + 1)² positions × channels × filters, the B of each position's product.</summary>
    private ParameterTensor TransformedWeight(Shape input) =>
        new(TensorRole.TransformedWeight, new[] { WinogradPositions, input.Channels, Filters }.ToEquatableArray(), 0);

    /// <summary>
    /// Tile rows per part of a one-sample pass split across threads: two parts, the first the larger. Parts of fewer rows
    /// would run smaller products and gather more rows twice (a part reads r − 1 rows past its own).
    /// </summary>
    private static int WinogradGrain(Shape output) => (WinogradTiles(output.Height) + 1) / 2;

    /// <summary>Floats of the three workspaces of <c>Winograd.Forward</c> for one sample of <paramref name="tileRows"/> tile rows (what its <c>GatheredLength</c>, <c>TransformedLength</c> and <c>OutputsLength</c> give).</summary>
    private (long Gathered, long Transformed, long Outputs) WinogradLengths(Shape input, Shape output, int tileRows) =>
        WinogradLengths(input.Channels, Filters, output.Width, tileRows);

    /// <summary>The same for a convolution of <paramref name="channels"/> into <paramref name="filters"/> with outputs <paramref name="outputWidth"/> wide.</summary>
    private (long Gathered, long Transformed, long Outputs) WinogradLengths(int channels, int filters, int outputWidth, int tileRows)
    {
        int tilesAcross = WinogradTiles(outputWidth), tiles = tileRows * tilesAcross;
        int height = 2 * tileRows + KernelHeight - 1, width = 2 * tilesAcross + KernelHeight - 1;
        return (Math.Max((long)height * width * channels, (long)WinogradPositions * tiles * filters), (long)WinogradPositions * tiles * channels, 4L * tiles * filters);
    }

    /// <summary>
    /// A Winograd dL/dx's buffers: the turned weight's transform (positions × filters × channels: the turned weight's
    /// channels are this layer's filters), unless an operand made before the call (<see cref="TurnedWeightPrepared"/>), and
    /// the form's three workspaces for one sample, over dL/dy as its input.
    /// </summary>
    private ScratchBuffer[] WinogradInputGradientBuffers(Shape input, Shape output)
    {
        int tilesDown = WinogradTiles(input.Height), tilesAcross = WinogradTiles(input.Width), tiles = tilesDown * tilesAcross;
        var lengths = WinogradLengths(Filters, input.Channels, input.Width, tilesDown);
        return
        [
            .. TurnedWeightPrepared ? [] : new ScratchBuffer[]
            {
                new("turnedTransformed", "float", (long)WinogradPositions * Filters * input.Channels,
                    $"the turned weight's {WinogradName} transform, {WinogradPositions} × {Filters} × {input.Channels}, for dL/dx", PerSample: false),
            },
            new("gradientGathered", "float", lengths.Gathered,
                $"one sample's dL/dy channels-last with a zero border, then the Winograd products of dL/dx, {WinogradPositions} × {tiles} tiles × {input.Channels}", PerSample: false),
            new("gradientTransformed", "float", lengths.Transformed, $"one sample's transformed dL/dy, {WinogradPositions} × {tiles} tiles × {Filters} channels", PerSample: false),
            new("gradientOutputs", "float", lengths.Outputs, $"one sample's dL/dx channels-last over whole tiles, {2 * tilesDown}×{2 * tilesAcross} × {input.Channels}", PerSample: false),
        ];
    }

    /// <summary>The turned weight's transform as a tensor made before each training call (<see cref="TrainingPrepared"/>): positions × filters × channels.</summary>
    private ParameterTensor TurnedTransformedWeight(Shape input) =>
        new(TensorRole.TurnedTransformedWeight, new[] { WinogradPositions, Filters, input.Channels }.ToEquatableArray(), 0);

    /// <summary>A direct dL/dx's operands: the turned weight's transform where made before the call, then its buffers.</summary>
    private IEnumerable<Operand> InputGradientOperands(LayerPlan plan) =>
        (TurnedWeightPrepared ? new[] { Operand.TurnedTransformedWeight } : []).Concat(InputGradientBuffers(plan.Input, plan.Output).Select(Operand.Of));

    /// <summary>The turned weight's transform, for a Winograd dL/dx, made straight from the weight.</summary>
    private void EmitTransformTurnedWeight(SourceWriter w, LayerPlan plan) =>
        w.Line($"Winograd.TransformTurnedWeight(weight, turnedTransformed, kernel: {KernelHeight}, filters: {plan.Input.Channels}, channels: {Filters}); // {TurnedTransformFormula}");

    /// <summary>What the turned weight's transform is, for the comments beside it.</summary>
    private string TurnedTransformFormula => $"U'(ξ, k, t) = (G · flipped(t, k) · Gᵀ)(ξ), flipped(t, k, m, n) = w(k, t, {KernelHeight - 1} − m, {KernelWidth - 1} − n)";

    /// <summary>The references a Winograd dL/dx takes: the turned weight's transform, the zeros its sums start at, the workspaces.</summary>
    private void EmitWinogradInputGradientReferences(SourceWriter w, LayerPlan plan)
    {
        var lengths = WinogradLengths(Filters, plan.Input.Channels, plan.Input.Width, WinogradTiles(plan.Input.Height));
        w.Line($"ref float uf0 = ref MemoryMarshal.GetReference(turnedTransformed);");
        w.Line($"ref float z0 = ref MemoryMarshal.GetReference(zeros); // dL/dx has no bias: its sums start at zero");
        w.Line($"// The slices prove the workspaces' lengths.");
        w.Line($"ref float gg0 = ref MemoryMarshal.GetReference(gradientGathered.Slice(0, {lengths.Gathered}));");
        w.Line($"ref float gt0 = ref MemoryMarshal.GetReference(gradientTransformed.Slice(0, {lengths.Transformed}));");
        w.Line($"ref float go0 = ref MemoryMarshal.GetReference(gradientOutputs.Slice(0, {lengths.Outputs}));");
    }

    /// <summary>
    /// One sample's dL/dx by Winograd's F(2×2, r×r): the convolution of dL/dy (padded by r − 1 − padding) with the turned
    /// weight, whose channels are this layer's filters and filters its input channels.
    /// </summary>
    private void EmitWinogradInputGradient(SourceWriter w, LayerPlan plan, int step, string dy)
    {
        Shape input = plan.Input, output = plan.Output;
        int padding = KernelHeight - 1 - Padding;
        w.Line($"// {step}. dL/dx(t, u, v) = Σ_k Σ_m Σ_n flipped(t, k, m, n) · dL/dy(k, u + m − {padding}, v + n − {padding}) (dL/dy zero outside), flipped(t, k, m, n) = w(k, t, {KernelHeight - 1} − m, {KernelWidth - 1} − n): by Winograd's {WinogradName}, {input.Channels} filters over {Filters} channels, sums from zero.");
        w.Line($"Winograd.Forward<TVector>(ref uf0, ref z0, ref {dy}, ref gg0, ref gt0, ref go0, ref MemoryMarshal.GetReference(dx.Slice(s * {input.Length}, {input.Length})), kernel: {KernelHeight}, filters: {input.Channels}, channels: {Filters}, inputHeight: {output.Height}, inputWidth: {output.Width}, padding: {padding}, epilogue: Epilogue.None);");
    }

    /// <summary>The one-sample pass's split of the Winograd form: its tile rows in two parts (<see cref="EmitWinogradUnits"/>).</summary>
    private static SplitPlan WinogradSplit(Shape output) => new(WinogradTiles(output.Height), WinogradGrain(output), Prepares: false, "tile rows", ReadsOwnRows: true);

    /// <summary>
    /// The three workspaces of <c>Winograd.Forward</c> for one sample; where a one-sample pass splits the layer, long
    /// enough for its two parts' as well, each part's after the other's.
    /// </summary>
    private ScratchBuffer[] WinogradBuffers(Shape input, Shape output)
    {
        int tilesDown = WinogradTiles(output.Height), tilesAcross = WinogradTiles(output.Width), tiles = tilesDown * tilesAcross;
        int height = 2 * tilesDown + KernelHeight - 1, width = 2 * tilesAcross + KernelHeight - 1;
        var whole = WinogradSamplesLengths(input, output);
        var part = WinogradLengths(input, output, WinogradGrain(output));
        bool splits = WinogradSplit(output).Pays(MultiplyAdds(input, output), input.Length, output.Length);
        int parts = splits ? 2 : 0, samples = WinogradSamples(output);
        string split = splits ? "; or each part's, one after the other, of a one-sample pass split by tile rows" : "";
        string rows = samples > 1 ? $"{samples}·{tiles} tiles (up to {samples} samples')" : $"{tiles} tiles";
        return
        [
            new("gathered", "float", Math.Max(whole.Gathered, parts * part.Gathered),
                $"one sample's input channels-last with a zero border, {height}×{width} cells of {input.Channels} channels; then the Winograd products, {WinogradPositions} × {rows} × {Filters} filters{split}",
                PerSample: false),
            new("transformed", "float", Math.Max(whole.Transformed, parts * part.Transformed),
                $"{(samples > 1 ? $"up to {samples} samples'" : "one sample's")} transformed input, {WinogradPositions} × {rows} × {input.Channels} channels{split}", PerSample: false),
            new("outputs", "float", Math.Max(whole.Outputs, parts * part.Outputs),
                $"one sample's outputs channels-last over whole tiles, {2 * tilesDown}×{2 * tilesAcross} × {Filters} filters{split}", PerSample: false),
        ];
    }

    /// <summary>
    /// Tile rows first … first + units − 1 of one sample (<c>Winograd.ForwardRows</c>), in the workspaces' part first / grain
    /// (the splitter's parts are the two grains, on two threads or more):
    /// the part reads the input rows under its tiles and writes its output rows, so the two threads share only the rows at
    /// the seam, the transformed weight (read-only) and the output rows the next layer reads.
    /// </summary>
    private void EmitWinogradUnits(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        int grain = WinogradGrain(output);
        var part = WinogradLengths(input, output, grain);
        EmitWinogradReferences(w, $"// Part first / {grain}'s workspaces: its share of each, for {grain} tile rows (the slices prove the lengths).", part, grain);
        w.Line($"// y(k, i, j) for output rows 2·first … 2·(first + units) − 1 by {WinogradName}, as the whole pass computes them: the band's input rows gathered, transformed, multiplied, transformed back and copied out.");
        EmitEpilogueComment(w);
        w.Line($"Winograd.ForwardRows<TVector>(ref u0, ref b0, ref MemoryMarshal.GetReference(x.Slice(0, {input.Length})), ref g0, ref t0, ref o0, ref MemoryMarshal.GetReference(y.Slice(0, {output.Length})), kernel: {KernelHeight}, filters: {Filters}, channels: {input.Channels}, inputHeight: {input.Height}, inputWidth: {input.Width}, padding: {Padding}, firstTileRow: first, tileRows: units, epilogue: {EpilogueAt("0")});");
    }

    /// <summary>
    /// The references the Winograd kernels take: the transformed weight, the bias and the three workspaces, each sliced to
    /// <paramref name="lengths"/> from 0, or, for a part of <paramref name="grain"/> tile rows, from that part's share.
    /// </summary>
    private static void EmitWinogradReferences(SourceWriter w, string comment, (long Gathered, long Transformed, long Outputs) lengths, int? grain)
    {
        string At(long length) => grain is null ? $"0, {length}" : $"part * {length}, {length}";
        w.Line($"ref float u0 = ref MemoryMarshal.GetReference(transformedWeight);");
        w.Line($"ref float b0 = ref MemoryMarshal.GetReference(bias);");
        w.Line($"{comment}");
        if (grain is { } rows)
        {
            w.Line($"int part = first / {rows};");
        }

        w.Line($"ref float g0 = ref MemoryMarshal.GetReference(gathered.Slice({At(lengths.Gathered)}));");
        w.Line($"ref float t0 = ref MemoryMarshal.GetReference(transformed.Slice({At(lengths.Transformed)}));");
        w.Line($"ref float o0 = ref MemoryMarshal.GetReference(outputs.Slice({At(lengths.Outputs)}));");
    }

    private IReadOnlyList<Operand> WinogradOperands(LayerPlan plan)
    {
        ScratchBuffer[] buffers = WinogradBuffers(plan.Input, plan.Output);
        return
        [
            Operand.X, Operand.TransformedWeight, Operand.Bias, Operand.Y, Operand.Of(buffers[0]), Operand.Of(buffers[1]), Operand.Of(buffers[2]),
            .. AddsResidual ? new[] { Operand.Residual } : [],
        ];
    }

    /// <summary>The weight's Winograd transform, from <paramref name="weight"/> (W', or the layer's own W).</summary>
    private void EmitTransformWeight(SourceWriter w, LayerPlan form, string weight)
    {
        string of = weight == "weight" ? "W" : "W'";
        string g = KernelHeight == 3 ? "G = [−1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]" : "G = [¼ 0 0 0 0; −⅙ −⅙ −⅙ −⅙ −⅙; −⅙ ⅙ −⅙ ⅙ −⅙; 1/24 1/12 ⅙ ⅓ ⅔; 1/24 −1/12 ⅙ −⅓ ⅔; 0 0 0 0 1]";
        w.Line($"// U(ξ, t, k) = (G · {of}(k, t) · Gᵀ)(ξ), ξ = {KernelHeight + 1}a + b, {g}: the {WinogradName} transform of {of}, {WinogradPositions} × {form.Input.Channels} channels × {Filters} filters, which the Winograd pass multiplies by.");
        w.Line($"Winograd.TransformWeight({weight}, transformedWeight, kernel: {KernelHeight}, filters: {Filters}, channels: {form.Input.Channels});");
    }

    /// <summary>Samples per Winograd product in the forward pass (see <see cref="ConvolutionStrategy.WinogradSamples"/>).</summary>
    private static int WinogradSamples(Shape output) => ConvolutionStrategy.WinogradSamples(output.Height, output.Width);

    /// <summary>The workspaces' floats for <see cref="WinogradSamples"/> samples at once: the products of all, the transformed inputs of all, one sample's outputs.</summary>
    private (long Gathered, long Transformed, long Outputs) WinogradSamplesLengths(Shape input, Shape output)
    {
        int samples = WinogradSamples(output), tiles = WinogradTiles(output.Height) * WinogradTiles(output.Width);
        var one = WinogradLengths(input, output, WinogradTiles(output.Height));
        return (Math.Max(one.Gathered, (long)WinogradPositions * samples * tiles * Filters), samples * one.Transformed, one.Outputs);
    }

    /// <summary>The loop over the call's samples, <paramref name="samples"/> at a time.</summary>
    private static string SampleLoop(int samples) => samples > 1 ? $"for (int s = 0; s < count; s += {samples})" : "for (int s = 0; s < count; s++)";

    /// <summary>The forward pass by Winograd's F(2×2, r×r), one sample at a time, or several per product where a sample has few tiles.</summary>
    private void EmitWinogradForward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        int tilesDown = WinogradTiles(output.Height), tilesAcross = WinogradTiles(output.Width), tiles = tilesDown * tilesAcross;
        int samples = WinogradSamples(output);
        EmitWinogradReferences(w, "// The slices prove the workspaces' lengths.", WinogradSamplesLengths(input, output), null);
        w.Line($"{SampleLoop(samples)}");
        w.Open();
        int alpha = KernelHeight + 1;
        string bt = KernelHeight == 3 ? "Bᵀ = [−1 0 1 0; 0 1 1 0; 0 −1 1 0; 0 −1 0 1]" : "Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]";
        string at = KernelHeight == 3 ? "Aᵀ = [1 1 1 0; 0 1 −1 1]" : "Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 1]";
        w.Line($"// y(k, i, j) = b(k) + Σ_t Σ_m Σ_n w(k, t, m, n) · x(t, i + m − {Padding}, j + n − {Padding}) by Winograd's {WinogradName}, over {tilesDown}×{tilesAcross} tiles of 2×2 outputs:");
        w.Line($"// 1. gathered(u, v, t) = x(t, u − {Padding}, v − {Padding}), channels-last, zero outside x: {2 * tilesDown + KernelHeight - 1}×{2 * tilesAcross + KernelHeight - 1} cells of {input.Channels} channels.");
        w.Line($"// 2. V(ξ, r, t) = (Bᵀ · d(r, t) · B)(ξ) for tile r's {alpha}×{alpha} block d of gathered, {bt}.");
        string rows = samples > 1 ? $"{samples}·{tiles} tiles" : $"{tiles} tiles";
        string shared = samples > 1 ? $", up to {samples} samples' tiles in one product (each reads U(ξ) once for all)" : "";
        w.Line($"// 3. M(ξ) = V(ξ) · U(ξ) for ξ < {WinogradPositions}: [{rows} × {input.Channels}] · [{input.Channels} × {Filters} filters]{shared}, register tiles of the blocked product, into gathered.");
        w.Line($"// 4. y(k, 2·ti + a, 2·tj + b) = b(k) + (Aᵀ · M(·, r, k) · A)(a, b) for tile r = (ti, tj), {at}, into outputs, then copied out to the planes.");
        EmitEpilogueComment(w);
        // Several samples: x and y from sample s to the buffers' ends (ForwardSamples reads and writes only its samples').
        (string method, string xs, string ys, string samplesArgument) = samples > 1
            ? ("ForwardSamples", $"x.Slice(s * {input.Length})", $"y.Slice(s * {output.Length})", $", samples: Math.Min({samples}, count - s)")
            : ("Forward", $"x.Slice(s * {input.Length}, {input.Length})", $"y.Slice(s * {output.Length}, {output.Length})", "");
        w.Line($"Winograd.{method}<TVector>(ref u0, ref b0, ref MemoryMarshal.GetReference({xs}), ref g0, ref t0, ref o0, ref MemoryMarshal.GetReference({ys}), kernel: {KernelHeight}, filters: {Filters}, channels: {input.Channels}, inputHeight: {input.Height}, inputWidth: {input.Width}, padding: {Padding}{samplesArgument}, epilogue: {EpilogueAt($"s * {output.Length}")});");
        w.Close();
    }

    /// <summary>The floats of a Winograd dL/dw's four workspaces (what <c>Winograd.WeightGradientGatheredLength</c>, <c>TransformedLength</c> × samples, <c>TransformedGradientLength</c> and <c>WeightSumsLength</c> give).</summary>
    private (long Gathered, long Input, long Gradient, long Sums) WinogradWeightGradientLengths(Shape input, Shape output)
    {
        int tilesDown = WinogradTiles(output.Height), tilesAcross = WinogradTiles(output.Width), tiles = tilesDown * tilesAcross;
        int height = 2 * tilesDown + KernelHeight - 1, width = 2 * tilesAcross + KernelHeight - 1;
        long products = (long)WinogradPositions * WinogradSamples(output) * tiles;
        return (Math.Max((long)height * width * input.Channels, 4L * tiles * Filters), products * input.Channels, products * Filters, (long)WinogradPositions * input.Channels * Filters);
    }

    /// <summary>A Winograd dL/dw's workspaces: one sample's gathered input or dL/dy, the samples' transformed inputs and dL/dy, the sums S.</summary>
    private ScratchBuffer[] WinogradWeightGradientBuffers(Shape input, Shape output)
    {
        int tiles = WinogradTiles(output.Height) * WinogradTiles(output.Width), samples = WinogradSamples(output);
        var lengths = WinogradWeightGradientLengths(input, output);
        string of = samples > 1 ? $"{samples} samples' " : "one sample's ";
        return
        [
            new("weightGathered", "float", lengths.Gathered,
                $"for dL/dw, one sample's input channels-last with a zero border, then its dL/dy channels-last over whole tiles", PerSample: false),
            new("weightTransformedInput", "float", lengths.Input,
                $"for dL/dw, {of}transformed input, {WinogradPositions} × {(samples > 1 ? $"{samples}·" : "")}{tiles} tiles × {input.Channels} channels", PerSample: false),
            new("weightTransformedGradient", "float", lengths.Gradient,
                $"for dL/dw, {of}transformed dL/dy, {WinogradPositions} × {(samples > 1 ? $"{samples}·" : "")}{tiles} tiles × {Filters} filters", PerSample: false),
            new("weightSums", "float", lengths.Sums,
                $"for dL/dw, the sums S(ξ, t, k) over the call's samples, {WinogradPositions} × {input.Channels} channels × {Filters} filters", PerSample: false),
        ];
    }

    /// <summary>A backward pass with a Winograd dL/dw: x, dL/dy, the weight (for dL/dx), dL/dw, dL/db, dL/dx and dL/dx's buffers, dL/dw's workspaces.</summary>
    private IReadOnlyList<Operand> WinogradGradientOperands(LayerPlan plan) =>
    [
        Operand.X, Operand.Dy, Operand.Weight, Operand.WeightGradient, .. BiasOperand(Operand.BiasGradient), Operand.Dx, Operand.ComputeDx,
        .. Strategy.DirectInputGradient ? InputGradientOperands(plan) : [Operand.Of(ColumnsGradient(plan.Input, plan.Output))],
        .. WinogradWeightGradientBuffers(plan.Input, plan.Output).Select(Operand.Of),
        .. Strategy.DirectInputGradient ? new[] { Operand.Of(ZeroBias(plan.Input)) } : [],
    ];

    /// <summary>
    /// A backward pass with dL/dw by Winograd's F(r×r, 2×2) (see <see cref="ConvolutionStrategy.WinogradWeightGradient"/>): the
    /// sums S over every tile of every sample, <see cref="WinogradSamples"/> samples per
    /// product, then Gᵀ S G added to dL/dw once; dL/db; then dL/dx sample by sample (<see cref="EmitInputGradient"/>).
    /// </summary>
    private void EmitWinogradGradientBackward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        int samples = WinogradSamples(output), tiles = WinogradTiles(output.Height) * WinogradTiles(output.Width);
        var lengths = WinogradWeightGradientLengths(input, output);
        if (!Strategy.DirectInputGradient)
        {
            w.Line($"ref float w0 = ref MemoryMarshal.GetReference(weight); // dL/dcolumns = wᵀ · dL/dy");
            w.Line($"ref float dc0 = ref MemoryMarshal.GetReference(columnsGradient);");
        }

        w.Line($"ref float dy0 = ref MemoryMarshal.GetReference(dy);");
        w.Line($"// dL/dw's workspaces: the slices prove their lengths.");
        w.Line($"ref float wg0 = ref MemoryMarshal.GetReference(weightGathered.Slice(0, {lengths.Gathered}));");
        w.Line($"ref float wv0 = ref MemoryMarshal.GetReference(weightTransformedInput.Slice(0, {lengths.Input}));");
        w.Line($"ref float wd0 = ref MemoryMarshal.GetReference(weightTransformedGradient.Slice(0, {lengths.Gradient}));");
        w.Line($"ref float ws0 = ref MemoryMarshal.GetReference(weightSums.Slice(0, {lengths.Sums}));");
        w.Line();
        string gt = KernelHeight == 3 ? "A = [1 0; 1 1; 1 −1; 0 1]" : "A = [1 0; 1 1; 1 −1; 1 2; 1 −2; 0 1]";
        int reduction = samples * tiles;
        w.Line($"// 1. S(ξ, t, k) = Σ_s Σ_r V_s(ξ, r, t) · D_s(ξ, r, k) by Winograd's F({KernelHeight}×{KernelHeight}, 2×2), the dual of {WinogradName}: V = Bᵀ d B of each tile r's input block d (as the forward pass transforms it), D = A g Aᵀ of its 2×2 of dL/dy g, {gt}; {(samples > 1 ? $"{samples} samples at a time, " : "")}[{input.Channels} × {reduction}] · [{reduction} × {Filters}] at each of the {WinogradPositions} positions ξ, added to S from zero.");
        w.Line($"weightSums.Slice(0, {lengths.Sums}).Clear();");
        w.Line($"{SampleLoop(samples)}");
        w.Open();
        string count = samples > 1 ? $"Math.Min({samples}, count - s)" : "1";
        w.Line($"Winograd.AccumulateWeightGradient<TVector>(ref MemoryMarshal.GetReference(x.Slice(s * {input.Length})), ref Unsafe.Add(ref dy0, s * {output.Length}), ref wg0, ref wv0, ref wd0, ref ws0, samples: {count}, kernel: {KernelHeight}, filters: {Filters}, channels: {input.Channels}, inputHeight: {input.Height}, inputWidth: {input.Width}, padding: {Padding});");
        w.Close();
        w.Line();
        w.Line($"// 2. dL/dw(k, t, m, n) += Σ_a Σ_b G(a, m) · S({KernelHeight + 1}a + b, t, k) · G(b, n), once for all the samples.");
        w.Line($"Winograd.AddWeightGradient<TVector>(weightSums, weightGradient, kernel: {KernelHeight}, filters: {Filters}, channels: {input.Channels});");
        EmitBiasGradientThenInputGradientSetup(w, plan);
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"ref float dys0 = ref Unsafe.Add(ref dy0, s * {output.Length});");
        w.Line($"ReadOnlySpan<float> dys = dy.Slice(s * {output.Length});");
        EmitInputGradient(w, plan, 3, "dys0", "dys");
        w.Close();
    }
}
