using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [AvgPool2D(size)], Stride (default: size), Padding (default 0, at most size / 2): the mean of each size × size window,
/// per channel, as PyTorch's AvgPool2d with count_include_pad=True and ceil_mode=False: the padding counts as zeros and
/// every window is divided by size². Windows may overlap.
/// </summary>
/// <remarks>
/// Each output row is computed from one row buffer as wide as the padded input row: the sum of the window's input rows
/// (whole rows added as vectors, <c>TensorPrimitives.Add</c>), with the padding's zeros at either end; each output is then
/// the sum of <c>size</c> consecutive entries of it. The backward pass runs the same way in reverse: each output row's
/// gradient shares are spread over the row buffer, which is then added to each of the window's input rows.
/// </remarks>
internal sealed record AvgPool2DLayer(int Size, int Stride, int Padding) : Layer
{
    public const string AttributeName = "NetGen.AvgPool2DAttribute";

    public static Layer Parse(AttributeArguments a)
    {
        int size = a.Constructor(0);
        return new AvgPool2DLayer(size, a.Named("Stride") ?? size, a.Named("Padding") ?? 0);
    }

    public override string Kind => "AvgPool2D";

    public override string DefaultNamePrefix => "avg_pool";

    // The stride defaults to the size, so a bad size is reported once, not twice.
    public override bool ValidateArguments(LayerContext layer) =>
        Check.Positive(layer, "size", Size) && Check.Positive(layer, "stride", Stride)
        & Check.PoolingPadding(layer, Size, Padding);

    public override Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext layer) =>
        Check.PooledShape(layer, inputs[0], Size, Stride, Padding) is { } output
        && Check.Fits(layer, "its padded input row", inputs[0].Width + 2L * Padding) ? output : null;

    /// <summary>The row buffer: one padded input row's sums (forward) or gradient shares (backward).</summary>
    private ScratchBuffer Rows(Shape input) =>
        new("rows", "float", input.Width + 2L * Padding, $"one output row's window rows summed column by column, with {Padding} zeros at either end", PerSample: false);

    public override IReadOnlyList<ScratchBuffer> GetScratchBuffers(Shape input, Shape output) => [Rows(input)];

    public override IReadOnlyList<Operand> ForwardOperands(LayerPlan plan) => [Operand.X, Operand.Y, Operand.Of(Rows(plan.Input))];

    public override IReadOnlyList<Operand> BackwardOperands(LayerPlan plan) => [Operand.Dy, Operand.Dx, Operand.Of(Rows(plan.Input))];

    public override string Describe(LayerPlan plan) => $"window {Size}×{Size}, stride {Stride}, padding {Padding}";

    /// <summary>AveragePool with <c>count_include_pad=1</c>: every window divided by size², the padding counting as zeros.</summary>
    public override IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan) =>
    [
        new("AveragePool", OnnxRank.Spatial, [Operand.X],
            OnnxAttribute.Ints("kernel_shape", Size, Size), OnnxAttribute.Ints("strides", Stride, Stride),
            OnnxAttribute.Ints("pads", Padding, Padding, Padding, Padding), OnnxAttribute.Int("count_include_pad", 1)),
    ];

    public override string ForwardFormula(LayerPlan plan) =>
        $"y(c,i,j) = (1 / {Area}) · Σ over m, n < {Size} of x(c, i·{Stride} + m{Shift}, j·{Stride} + n{Shift})"
        + (Padding > 0 ? ", x being 0 outside the input (the padding counts: always divided by " + Area + ")" : "");

    public override string BackwardFormula(LayerPlan plan) =>
        $"dL/dx(c,u,v) = (1 / {Area}) · Σ over the windows (i, j) that hold (u, v) of dL/dy(c,i,j)";

    /// <summary>" − p" in a formula, or nothing without padding.</summary>
    private string Shift => Padding > 0 ? $" − {Padding}" : "";

    /// <summary>size², the divisor of every window, as a float literal.</summary>
    private string Divisor => Literal.Float((float)((long)Size * Size));

    private long Area => (long)Size * Size;

    public override void EmitForward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        w.Line($"rows.Clear(); // the padding's zeros at either end stay zero");
        w.Line($"Span<float> sums = rows.Slice({Padding}, {input.Width});");
        OpenRowLoops(w, input, output);
        w.Line($"x.Slice(plane + first * {input.Width}, {input.Width}).CopyTo(sums);");
        w.Line($"for (int u = first + 1; u < end; u++)");
        w.Open();
        w.Line($"TensorPrimitives.Add(sums, x.Slice(plane + u * {input.Width}, {input.Width}), sums);");
        w.Close();
        w.Line();
        w.Line($"for (int j = 0; j < {output.Width}; j++)");
        w.Open();
        w.Line($"float sum = 0f;");
        w.Line($"for (int n = 0; n < {Size}; n++)");
        w.Open();
        w.Line($"sum += rows[j * {Stride} + n];");
        w.Close();
        w.Line();
        w.Line($"y[o + j] = sum / {Divisor};");
        w.Close();
        CloseRowLoops(w);
    }

    public override void EmitBackward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        w.Line($"dx.Slice(0, count * {input.Length}).Clear();");
        w.Line($"ReadOnlySpan<float> shares = rows.Slice({Padding}, {input.Width});");
        OpenRowLoops(w, input, output);
        w.Line($"// Each output's share, dL/dy / {Area}, on the {Size} columns of its window (those in the padding are dropped).");
        w.Line($"rows.Clear();");
        w.Line($"for (int j = 0; j < {output.Width}; j++)");
        w.Open();
        w.Line($"float share = dy[o + j] / {Divisor};");
        w.Line($"for (int n = 0; n < {Size}; n++)");
        w.Open();
        w.Line($"rows[j * {Stride} + n] += share;");
        w.Close();
        w.Close();
        w.Line();
        w.Line($"for (int u = first; u < end; u++)");
        w.Open();
        w.Line($"Span<float> gradient = dx.Slice(plane + u * {input.Width}, {input.Width});");
        w.Line($"TensorPrimitives.Add(gradient, shares, gradient);");
        w.Close();
        CloseRowLoops(w);
    }

    /// <summary>
    /// Opens the loops over the samples, the channels and the output rows i, with <c>plane</c> (the offset of the channel's
    /// plane), <c>o</c> (of output row i) and <c>first</c> … <c>end</c> − 1 (window row i's input rows inside the input) in
    /// scope. <see cref="CloseRowLoops"/> closes them.
    /// </summary>
    private void OpenRowLoops(SourceWriter w, Shape input, Shape output)
    {
        w.Line($"int o = 0;");
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"for (int c = 0; c < {input.Channels}; c++)");
        w.Open();
        w.Line($"int plane = s * {input.Length} + c * {input.Height * input.Width};");
        w.Line($"for (int i = 0; i < {output.Height}; i++, o += {output.Width})");
        w.Open();
        if (Padding == 0)
        {
            w.Line($"int first = i * {Stride}, end = first + {Size}; // window row i's input rows");
        }
        else
        {
            int last = Size - 1 - Padding;
            string to = last == 0 ? "" : last > 0 ? $" + {last}" : $" − {-last}";
            w.Line($"// Window row i covers input rows i·{Stride} − {Padding} … i·{Stride}{to}: those inside the input.");
            w.Line($"int first = Math.Max(i * {Stride} - {Padding}, 0), end = Math.Min(i * {Stride} + {Size - Padding}, {input.Height});");
        }
    }

    private static void CloseRowLoops(SourceWriter w)
    {
        w.Close();
        w.Close();
        w.Close();
    }
}
