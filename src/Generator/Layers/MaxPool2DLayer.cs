using System.Collections.Generic;
using System.Linq;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [MaxPool2D(size)], Stride (default: size), Padding (default 0, at most size / 2): the maximum of each size × size
/// window, per channel, as PyTorch's MaxPool2d; the padding is −∞ and never wins a window.
/// Ties go to the first maximum in row-major window order, as in PyTorch; the forward pass records each
/// window's arg-max so the backward pass routes the gradient there and nowhere else. The forward pass is
/// vectorized along each row, without branches; so is the backward pass of 2×2 windows with stride 2 and no padding.
/// With padding, each channel is first copied into a plane bordered with −∞, which the same reductions then read.
/// </summary>
internal sealed record MaxPool2DLayer(int Size, int Stride, int Padding) : Layer
{
    /// <summary>Whether the ReLU before it is fused in (see <see cref="Absorb"/>): y = max(0, max over the window), and the gradient reaches the winner only where y &gt; 0.</summary>
    public bool RectifiesInput { get; init; }

    /// <summary>
    /// A ReLU just before: max(0, max over the window) is the maximum of the rectified window, and the gradient reaches the
    /// window's winner exactly when that maximum is positive, so the pooling does both in one pass.
    /// </summary>
    public override Layer? Absorb(Layer previous) => previous is ReLULayer ? this with { RectifiesInput = true } : null;

    public const string AttributeName = "NetGen.MaxPool2DAttribute";

    public static Layer Parse(AttributeArguments a)
    {
        int size = a.Constructor(0);
        return new MaxPool2DLayer(size, a.Named("Stride") ?? size, a.Named("Padding") ?? 0);
    }

    public override string Kind => "MaxPool2D";

    public override string DefaultNamePrefix => "pool";

    // The stride defaults to the size, so a bad size is reported once, not twice.
    public override bool ValidateArguments(LayerContext layer) =>
        Check.Positive(layer, "size", Size) && Check.Positive(layer, "stride", Stride)
        & Check.PoolingPadding(layer, Size, Padding)
        && Check.UnrolledTaps(layer, "window", Size, Size);

    public override Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext layer) =>
        Check.PooledShape(layer, inputs[0], Size, Stride, Padding) is { } output
        && (Padding == 0 || Check.Fits(layer, "its padded input plane", PaddedHeight(inputs[0]) * (long)PaddedWidth(inputs[0]))) ? output : null;

    public override IReadOnlyList<ScratchBuffer> GetScratchBuffers(Shape input, Shape output) =>
        (PicksEvenLanes ? [ArgMax(output)] : new[] { ArgMax(output), WindowMax(output), WindowTap(output) })
        .Concat(Padding > 0 ? [PaddedPlane(input)] : []).ToList();

    private ScratchBuffer ArgMax(Shape output) =>
        new("argMax", "float", output.Length,
            Padding == 0
                ? "where each window's maximum is: its offset from the window's start (for inputs over 16 million floats wide, its tap number m · size + n)"
                : "where each window's maximum is: its offset in the input from the window's top-left tap, in the padding or not (for inputs over 16 million floats wide, its tap number m · size + n); −1 where no tap beat −∞",
            PerSample: true);

    /// <summary>One channel of one sample with <see cref="Padding"/> rows and columns of −∞ around it.</summary>
    private ScratchBuffer PaddedPlane(Shape input) =>
        new("padded", "float", PaddedHeight(input) * (long)PaddedWidth(input), $"one channel of a sample inside a border of −∞, {Padding} wide", PerSample: false);

    private int PaddedHeight(Shape input) => input.Height + 2 * Padding;

    private int PaddedWidth(Shape input) => input.Width + 2 * Padding;

    private ScratchBuffer WindowMax(Shape output) =>
        new("windowMax", "float", Positions(output), "the maximum of the window starting at each position of one output row's input rows", PerSample: false);

    private ScratchBuffer WindowTap(Shape output) =>
        new("windowTap", "float", Positions(output), "where in that window the maximum is, as in argMax", PerSample: false);

    public override IReadOnlyList<Operand> ForwardOperands(LayerPlan plan) =>
        (PicksEvenLanes
            ? [Operand.X, Operand.Y, Operand.Of(ArgMax(plan.Output))]
            : new[] { Operand.X, Operand.Y, Operand.Of(ArgMax(plan.Output)), Operand.Of(WindowMax(plan.Output)), Operand.Of(WindowTap(plan.Output)) })
        .Concat(Padding > 0 ? [Operand.Of(PaddedPlane(plan.Input))] : []).ToList();

    /// <summary>
    /// With stride 2 the windows of Count consecutive outputs start at the 2·Count positions of two vectors: both are reduced,
    /// and their even lanes (<c>PickEven</c>) are the outputs, stored as a vector. Other strides reduce the windows at every
    /// position into a row buffer and pick every Stride-th.
    /// </summary>
    private bool PicksEvenLanes => Stride == 2;

    public override IReadOnlyList<Operand> BackwardOperands(LayerPlan plan) =>
        RectifiesInput
            ? [Operand.Dy, Operand.Dx, Operand.Of(ArgMax(plan.Output)), Operand.Y]
            : [Operand.Dy, Operand.Dx, Operand.Of(ArgMax(plan.Output))];

    public override bool IsVectorized(bool forward) => forward || SpreadsBack;

    /// <summary>
    /// With 2×2 windows and stride 2 (windows side by side) the backward pass writes dL/dx whole rows at a time: each output
    /// gradient goes to the lane of its window's winner (<c>SelectEqual</c> on the arg-max), zero to the others, and two such
    /// vectors interleaved (<c>InterleaveLower</c>/<c>Upper</c>) are Count·2 floats of a row of dL/dx. Nothing is cleared first
    /// and nothing is read back. Other windows (and padded ones) scatter one output at a time into a cleared dL/dx.
    /// </summary>
    private bool SpreadsBack => Size == 2 && Stride == 2 && Padding == 0;

    public override string Describe(LayerPlan plan) =>
        $"window {Size}×{Size}, stride {Stride}{(Padding > 0 ? $", padding {Padding}" : "")}{(RectifiesInput ? ", with the ReLU before it" : "")}";

    /// <summary>
    /// MaxPool (its padding −∞ as here). A ReLU fused into this pooling (<see cref="RectifiesInput"/>) is not part of it in
    /// ONNX: the ReLU's plan stays in the model and exports its own Relu before it.
    /// </summary>
    public override IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan) =>
    [
        new("MaxPool", OnnxRank.Spatial, [Operand.X],
            OnnxAttribute.Ints("kernel_shape", Size, Size), OnnxAttribute.Ints("strides", Stride, Stride),
            OnnxAttribute.Ints("pads", Padding, Padding, Padding, Padding)),
    ];

    public override string ForwardFormula(LayerPlan plan)
    {
        string shift = Padding > 0 ? $" − {Padding}" : "";
        string window = $"max over m, n < {Size} of x(c, i·{Stride} + m{shift}, j·{Stride} + n{shift})";
        string outside = Padding > 0 ? "−∞ outside the input (the padding never wins)" : "";
        return RectifiesInput
            ? $"y(c,i,j) = max(0, {window}), x being the ReLU's input{(Padding > 0 ? ", " + outside : "")}; the first maximum in row-major order wins"
            : $"y(c,i,j) = {window}{(Padding > 0 ? ", x being " + outside : "")}; the first maximum in row-major order wins";
    }

    public override string BackwardFormula(LayerPlan plan) =>
        (RectifiesInput
            ? "dL/dx(c,u,v) = Σ over windows whose arg-max is (c,u,v) and whose y(c,i,j) > 0 of dL/dy(c,i,j); zero elsewhere (x, dL/dx: the ReLU's input)"
            : "dL/dx(c,u,v) = Σ over windows whose arg-max is (c,u,v) of dL/dy(c,i,j); zero elsewhere");

    /// <summary>
    /// Whether every tap's offset from its window's start (up to (size − 1) · width + size − 1) is exact in a float, so
    /// the vector of winners can hold offsets. Otherwise (inputs over 16 million floats wide) it holds tap numbers,
    /// which are below 1,024, and the pick turns them into offsets.
    /// </summary>
    private bool OffsetsFitFloat(Shape input) => (Size - 1) * (long)input.Width + Size - 1 < 1 << 24;

    private static string Ordinal(int n) => n switch { 1 => "", 2 => "second ", 3 => "third ", _ => $"{n}th " };

    /// <summary>Input columns an output row's windows start at, and those between: (output width − 1) · stride + 1.</summary>
    private int Positions(Shape output) => (output.Width - 1) * Stride + 1;

    // Vectorized along the row: the windows starting at Count consecutive input columns are reduced at once, one
    // vector load per tap, with compare-and-select (no branches: which tap wins is data-dependent and mispredicts
    // about half the time). With stride 2 the even lanes of two such vectors are Count outputs; otherwise every
    // Stride-th position of a row buffer is a window of the output.
    public override void EmitForward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        int positions = Positions(output);
        // Without padding the windows read x; with it, a plane holding one channel inside a border of −∞.
        string read = Padding > 0 ? "padded" : "x";
        string readLength = Padding > 0 ? $"{PaddedHeight(input) * PaddedWidth(input)}" : $"count * {input.Length}";
        if (PicksEvenLanes)
        {
            w.Line($"// A row's last vectors read up to 2 · Count − 1 floats past its windows and write up to Count − 1 past the row, at most into the buffers' slack.");
            w.Line($"{read} = {read}.Slice(0, {readLength} + 2 * TVector.Count - 1);");
            w.Line($"y = y.Slice(0, count * {output.Length} + TVector.Count - 1);");
            w.Line($"argMax = argMax.Slice(0, count * {output.Length} + TVector.Count - 1);");
        }
        else
        {
            w.Line($"// The last vector of a row reads up to Count − 1 floats past its windows, at most into the buffer's slack.");
            w.Line($"{read} = {read}.Slice(0, {readLength} + TVector.Count - 1);");
            w.Line($"windowMax = windowMax.Slice(0, {positions} + TVector.Count - 1);");
            w.Line($"windowTap = windowTap.Slice(0, {positions} + TVector.Count - 1);");
            w.Line($"y = y.Slice(0, count * {output.Length});");
            w.Line($"argMax = argMax.Slice(0, count * {output.Length});");
        }

        if (Padding > 0)
        {
            w.Line($"padded.Fill(float.NegativeInfinity); // the border; each channel is copied inside it in turn");
            w.Line($"ref float x0 = ref MemoryMarshal.GetReference(padded); // the windows read the padded plane");
        }
        else
        {
            w.Line($"ref float x0 = ref MemoryMarshal.GetReference(x);");
        }

        w.Line($"ref float y0 = ref MemoryMarshal.GetReference(y);");
        w.Line($"ref float argMax0 = ref MemoryMarshal.GetReference(argMax);");
        if (!PicksEvenLanes)
        {
            w.Line($"ref float max0 = ref MemoryMarshal.GetReference(windowMax);");
            w.Line($"ref float tap0 = ref MemoryMarshal.GetReference(windowTap);");
        }

        w.Line($"int o = 0;");
        if (Padding > 0)
        {
            OpenPaddedRowLoops(w, input, output);
        }
        else
        {
            OpenRowLoops(w, input, output, "i++");
        }

        if (PicksEvenLanes)
        {
            w.Line($"// Outputs j…j + Count − 1: their windows start at the even positions of 2 · Count from 2j. At each position, {TapOrder("the window", "the window's")}.");
            w.Line($"for (int j = 0; j < {output.Width}; j += TVector.Count)");
            w.Open();
            w.Line($"ref float low = ref Unsafe.Add(ref x0, row + 2 * j); // positions 2j … 2j + Count − 1");
            w.Line($"ref float high = ref Unsafe.Add(ref low, TVector.Count); // the next Count positions");
            EmitWindowReduction(w, input, "Low", "low");
            EmitWindowReduction(w, input, "High", "high");
            if (RectifiesInput)
            {
                w.Line($"TVector.Store(TVector.Max(TVector.PickEven(maxLow, maxHigh), TVector.Zero), ref Unsafe.Add(ref y0, o + j)); // then the ReLU");
            }
            else
            {
                w.Line($"TVector.Store(TVector.PickEven(maxLow, maxHigh), ref Unsafe.Add(ref y0, o + j));");
            }

            w.Line($"TVector.Store(TVector.PickEven(tapLow, tapHigh), ref Unsafe.Add(ref argMax0, o + j));");
            w.Close();
            w.Line();
            w.Line($"o += {output.Width};");
        }
        else
        {
            w.Line($"// The window starting at each of the {positions} positions q: {TapOrder("it", "its")}.");
            w.Line($"for (int q = 0; q < {positions}; q += TVector.Count)");
            w.Open();
            w.Line($"ref float at = ref Unsafe.Add(ref x0, row + q);");
            EmitWindowReduction(w, input, "", "at");
            w.Line($"TVector.Store(max, ref Unsafe.Add(ref max0, q));");
            w.Line($"TVector.Store(tap, ref Unsafe.Add(ref tap0, q));");
            w.Close();
            w.Line();
            w.Line($"// Every {Ordinal(Stride)}position starts a window of the output (o < count · {output.Length}: the slices above bound it).");
            w.Line($"for (int j = 0; j < {output.Width}; j++, o++)");
            w.Open();
            if (RectifiesInput)
            {
                w.Line($"Unsafe.Add(ref y0, o) = MathF.Max(Unsafe.Add(ref max0, j * {Stride}), 0f); // then the ReLU");
            }
            else
            {
                w.Line($"Unsafe.Add(ref y0, o) = Unsafe.Add(ref max0, j * {Stride});");
            }

            w.Line($"Unsafe.Add(ref argMax0, o) = Unsafe.Add(ref tap0, j * {Stride});");
            w.Close();
        }

        w.Close();
        w.Close();
        w.Close();
    }

    /// <summary>How the reduction goes through a window's taps, for the comments.</summary>
    private string TapOrder(string window, string windows) => Padding > 0
        ? $"each tap of {window} in row-major order against −∞; '>' keeps the first maximum, and the padding (−∞) never wins"
        : $"{windows} top-left tap, then each other tap in row-major order; '>' keeps the first maximum";

    /// <summary>
    /// max{suffix} and tap{suffix}: the maximum of the windows starting at the Count positions from <paramref name="at"/>, and
    /// where it is. Without padding the reduction starts from the top-left tap; with it, from −∞ and tap −1 (none), so that
    /// only a tap inside the input can win (a window whose elements are all −∞ keeps −1).
    /// </summary>
    private void EmitWindowReduction(SourceWriter w, Shape input, string suffix, string at)
    {
        string max = "max" + suffix, tap = "tap" + suffix, v = suffix.Length == 0 ? "v" : "v" + suffix.Substring(0, 1).ToLowerInvariant();
        string load = at;
        int rowWidth = Padding > 0 ? PaddedWidth(input) : input.Width;
        if (Padding > 0)
        {
            w.Line($"TVector {max} = TVector.Broadcast(float.NegativeInfinity);");
            w.Line($"TVector {tap} = TVector.Broadcast(-1f);");
        }
        else
        {
            w.Line($"TVector {max} = TVector.Load(ref {load});");
            w.Line($"TVector {tap} = TVector.Zero;");
        }

        for (int m = 0; m < Size; m++)
        {
            for (int n = 0; n < Size; n++)
            {
                if (m == 0 && n == 0 && Padding == 0)
                {
                    continue;
                }

                // The recorded offset is the tap's in the input (row width input.Width), whatever plane the load reads.
                int number = m * Size + n, offset = m * input.Width + n, loadOffset = m * rowWidth + n;
                string address = loadOffset == 0 ? $"ref {load}" : $"ref Unsafe.Add(ref {load}, {loadOffset})";
                w.Line($"TVector {v}{number} = TVector.Load({address}); // tap ({m}, {n})");
                w.Line($"{tap} = TVector.SelectGreater({v}{number}, {max}, TVector.Broadcast({(OffsetsFitFloat(input) ? offset : number)}f), {tap});");
                w.Line($"{max} = TVector.SelectGreater({v}{number}, {max}, {v}{number}, {max});");
            }
        }
    }

    public override void EmitBackward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        if (SpreadsBack)
        {
            EmitSpreadBackward(w, plan);
            return;
        }

        w.Line($"dx.Slice(0, count * {input.Length}).Clear();");
        w.Line($"int o = 0;");
        OpenRowLoops(w, input, output, "i++");
        w.Line($"for (int j = 0; j < {output.Width}; j++, o++)");
        w.Open();
        string gradient = RectifiesInput ? "(y[o] > 0f ? dy[o] : 0f)" : "dy[o]";
        if (Padding > 0)
        {
            int plane = input.Height * input.Width;
            w.Line($"int t = (int)argMax[o];{(OffsetsFitFloat(input) ? "" : $" // the winning tap's number (m · {Size} + n)")}");
            w.Line($"if (t < 0)");
            w.Open();
            w.Line($"// No tap beat −∞: the window's elements are all −∞, and PyTorch's winner is the first of them inside the input.");
            w.Line($"dx[s * {input.Length} + c * {plane} + Math.Max(i * {Stride} - {Padding}, 0) * {input.Width} + Math.Max(j * {Stride} - {Padding}, 0)] += {gradient};");
            w.Close();
            w.Line($"else");
            w.Open();
            w.Line($"dx[row + j * {Stride} + {(OffsetsFitFloat(input) ? "t" : $"t / {Size} * {input.Width} + t % {Size}")}] += {gradient};");
            w.Close();
        }
        else if (OffsetsFitFloat(input))
        {
            w.Line($"dx[row + j * {Stride} + (int)argMax[o]] += {gradient};");
        }
        else
        {
            w.Line($"int t = (int)argMax[o]; // the winning tap's number (m · {Size} + n)");
            w.Line($"dx[row + j * {Stride} + t / {Size} * {input.Width} + t % {Size}] += {gradient};");
        }

        w.Close();
        w.Close();
        w.Close();
        w.Close();
    }

    /// <summary>The backward pass of 2×2 windows with stride 2 (see <see cref="SpreadsBack"/>).</summary>
    private void EmitSpreadBackward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        int width = input.Width, plane = input.Height * input.Width;
        bool offsets = OffsetsFitFloat(input);
        string Winner(int m, int n) => $"{(offsets ? m * width + n : m * Size + n)}f";
        w.Line($"// A row's last vectors read up to Count − 1 floats past its outputs and write up to 2 · Count − 2 past its {2 * output.Width} columns, into the next row, which is written next (or into the buffers' slack).");
        w.Line($"dy = dy.Slice(0, count * {output.Length} + TVector.Count - 1);");
        w.Line($"argMax = argMax.Slice(0, count * {output.Length} + TVector.Count - 1);");
        if (RectifiesInput)
        {
            w.Line($"y = y.Slice(0, count * {output.Length} + TVector.Count - 1);");
            w.Line($"ref float y0 = ref MemoryMarshal.GetReference(y);");
        }

        w.Line($"dx = dx.Slice(0, count * {input.Length} + 2 * TVector.Count - 2);");
        w.Line($"ref float dy0 = ref MemoryMarshal.GetReference(dy);");
        w.Line($"ref float argMax0 = ref MemoryMarshal.GetReference(argMax);");
        w.Line($"ref float dx0 = ref MemoryMarshal.GetReference(dx);");
        w.Line($"TVector zero = TVector.Zero;");
        w.Line($"int o = 0;");
        OpenRowLoops(w, input, output, $"i++, o += {output.Width}");
        w.Line($"// Window row 0 (dL/dx row 2i), then window row 1 (row 2i + 1): each row whole before the next, which overwrites what ran over.");
        for (int m = 0; m < 2; m++)
        {
            if (m == 1)
            {
                w.Line();
            }

            w.Line($"for (int j = 0; j < {output.Width}; j += TVector.Count)");
            w.Open();
            w.Line($"TVector g = TVector.Load(ref Unsafe.Add(ref dy0, o + j));");
            w.Line($"TVector winner = TVector.Load(ref Unsafe.Add(ref argMax0, o + j));");
            if (RectifiesInput)
            {
                w.Line($"g = TVector.SelectGreater(TVector.Load(ref Unsafe.Add(ref y0, o + j)), zero, g, zero); // the ReLU: only where y > 0");
            }

            w.Line($"TVector left = TVector.SelectEqual(winner, TVector.Broadcast({Winner(m, 0)}), g, zero); // tap ({m}, 0): column 2j");
            w.Line($"TVector right = TVector.SelectEqual(winner, TVector.Broadcast({Winner(m, 1)}), g, zero); // tap ({m}, 1): column 2j + 1");
            w.Line($"ref float at = ref Unsafe.Add(ref dx0, row{Literal.Offset(m * width)} + 2 * j);");
            w.Line($"TVector.Store(TVector.InterleaveLower(left, right), ref at);");
            w.Line($"TVector.Store(TVector.InterleaveUpper(left, right), ref Unsafe.Add(ref at, TVector.Count));");
            w.Close();
        }

        if (width % 2 != 0)
        {
            w.Line();
            w.Line($"// Column {width - 1} is in no window.");
            w.Line($"Unsafe.Add(ref dx0, row + {width - 1}) = 0f;");
            w.Line($"Unsafe.Add(ref dx0, row + {2 * width - 1}) = 0f;");
        }

        w.Close();
        if (input.Height % 2 != 0)
        {
            w.Line();
            w.Line($"// Row {input.Height - 1} is in no window.");
            w.Line($"dx.Slice(s * {input.Length} + c * {plane} + {(input.Height - 1) * width}, {width}).Clear();");
        }

        w.Close();
        w.Close();
    }

    /// <summary>
    /// Opens the loops over the samples, the channels and the output rows i (advanced by <paramref name="step"/>), with
    /// <c>row</c>, the offset in x of the top-left tap of row i's first window, in scope. The caller closes the three.
    /// </summary>
    private void OpenRowLoops(SourceWriter w, Shape input, Shape output, string step)
    {
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"for (int c = 0; c < {input.Channels}; c++)");
        w.Open();
        w.Line($"for (int i = 0; i < {output.Height}; {step})");
        w.Open();
        if (Padding > 0)
        {
            w.Line($"// The tap may lie in the padding, even before the plane: only the winners' offsets from it are used.");
        }

        w.Line($"int row = s * {input.Length} + c * {input.Height * input.Width} + i * {Stride * input.Width}{Literal.Offset(-(Padding * input.Width + Padding))};");
    }

    /// <summary>
    /// The forward pass's loops with padding: over the samples and channels, copying each channel inside the padded plane's
    /// border, then over the output rows i, with <c>row</c>, the offset in the padded plane of row i's first window, in scope.
    /// The caller closes the three.
    /// </summary>
    private void OpenPaddedRowLoops(SourceWriter w, Shape input, Shape output)
    {
        int width = PaddedWidth(input);
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"for (int c = 0; c < {input.Channels}; c++)");
        w.Open();
        w.Line($"for (int u = 0; u < {input.Height}; u++)");
        w.Open();
        w.Line($"x.Slice(s * {input.Length} + c * {input.Height * input.Width} + u * {input.Width}, {input.Width}).CopyTo(padded.Slice({Padding * width + Padding} + u * {width}));");
        w.Close();
        w.Line();
        w.Line($"for (int i = 0; i < {output.Height}; i++)");
        w.Open();
        w.Line($"int row = i * {Stride * width};");
    }
}
