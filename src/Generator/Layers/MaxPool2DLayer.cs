using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;
using NetGen.Generator.Parsing;

namespace NetGen.Generator.Layers;

/// <summary>
/// [MaxPool2D(size)], Stride (default: size): the maximum of each size × size window, per channel.
/// Ties go to the first maximum in row-major window order, as in PyTorch; the forward pass records each
/// window's arg-max so the backward pass routes the gradient there and nowhere else. The forward pass is
/// vectorized along each row, without branches.
/// </summary>
internal sealed record MaxPool2DLayer(int Size, int Stride) : Layer
{
    public const string AttributeName = "NetGen.MaxPool2DAttribute";

    public static Layer Parse(AttributeArguments a)
    {
        int size = a.Constructor(0);
        return new MaxPool2DLayer(size, a.Named("Stride") ?? size);
    }

    public override string Kind => "MaxPool2D";

    public override string DefaultNamePrefix => "pool";

    // The stride defaults to the size, so a bad size is reported once, not twice.
    public override bool ValidateArguments(string name, List<DiagnosticInfo> diagnostics) =>
        Check.Positive(this, name, "size", Size, diagnostics) && Check.Positive(this, name, "stride", Stride, diagnostics)
        && Check.UnrolledTaps(this, name, "window", Size, Size, diagnostics);

    public override Shape? InferOutputShape(Shape input, string name, List<DiagnosticInfo> diagnostics)
    {
        if (Size > input.Height || Size > input.Width)
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.WindowLargerThanInput, Location, name, "pooling", Size, Size, input.ToFullString(), ""));
            return null;
        }

        return new Shape(input.Channels, (input.Height - Size) / Stride + 1, (input.Width - Size) / Stride + 1);
    }

    public override IReadOnlyList<ScratchBuffer> GetScratchBuffers(Shape input, Shape output) =>
    [
        new("argMax", "int", output.Length, "the index in x of each window's maximum", PerSample: true),
        new("windowMax", "float", Positions(output), "the maximum of the window starting at each position of one output row's input rows", PerSample: false),
        new("windowTap", "float", Positions(output), "where in that window the maximum is: its offset from the window's start", PerSample: false),
    ];

    public override IReadOnlyList<string> ForwardArguments => ["x", "y", "argMax", "windowMax", "windowTap"];

    public override IReadOnlyList<string> BackwardArguments => ["dy", "dx", "argMax"];

    public override bool IsVectorized(bool forward) => forward;

    public override string Describe(LayerPlan plan) => $"window {Size}×{Size}, stride {Stride}";

    public override string ForwardFormula(LayerPlan plan) =>
        $"{plan.Name}: {plan.Input} → {plan.Output}, {Describe(plan)}\n" +
        $"y(c,i,j) = max over m, n < {Size} of x(c, i·{Stride} + m, j·{Stride} + n); the first maximum in row-major order wins";

    public override string BackwardFormula(LayerPlan plan) =>
        $"{plan.Name}: {plan.Output} → {plan.Input}\n" +
        "dL/dx(c,u,v) = Σ over windows whose arg-max is (c,u,v) of dL/dy(c,i,j); zero elsewhere";

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
    // about half the time). Every Stride-th position is then a window of the output.
    public override void EmitForward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        int plane = input.Height * input.Width;
        int positions = Positions(output);
        w.Line($"// The last vector of a row reads up to Count − 1 floats past its windows, at most into the buffer's slack.");
        w.Line($"x = x.Slice(0, count * {input.Length} + TVector.Count - 1);");
        w.Line($"windowMax = windowMax.Slice(0, {positions} + TVector.Count - 1);");
        w.Line($"windowTap = windowTap.Slice(0, {positions} + TVector.Count - 1);");
        w.Line($"y = y.Slice(0, count * {output.Length});");
        w.Line($"argMax = argMax.Slice(0, count * {output.Length});");
        w.Line($"ref float x0 = ref MemoryMarshal.GetReference(x);");
        w.Line($"ref float y0 = ref MemoryMarshal.GetReference(y);");
        w.Line($"ref int argMax0 = ref MemoryMarshal.GetReference(argMax);");
        w.Line($"ref float max0 = ref MemoryMarshal.GetReference(windowMax);");
        w.Line($"ref float tap0 = ref MemoryMarshal.GetReference(windowTap);");
        w.Line($"int o = 0;");
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"for (int c = 0; c < {input.Channels}; c++)");
        w.Open();
        w.Line($"for (int i = 0; i < {output.Height}; i++)");
        w.Open();
        w.Line($"int row = s * {input.Length} + c * {plane} + i * {Stride * input.Width};");
        w.Line($"// The window starting at each of the {positions} positions q: its top-left tap, then each other tap in row-major order; '>' keeps the first maximum.");
        w.Line($"for (int q = 0; q < {positions}; q += TVector.Count)");
        w.Open();
        w.Line($"ref float at = ref Unsafe.Add(ref x0, row + q);");
        w.Line($"TVector max = TVector.Load(ref at);");
        w.Line($"TVector tap = TVector.Zero;");
        for (int m = 0; m < Size; m++)
        {
            for (int n = 0; n < Size; n++)
            {
                if (m == 0 && n == 0)
                {
                    continue;
                }

                int tap = m * Size + n, offset = m * input.Width + n;
                w.Line($"TVector v{tap} = TVector.Load(ref Unsafe.Add(ref at, {offset})); // tap ({m}, {n})");
                w.Line($"tap = TVector.SelectGreater(v{tap}, max, TVector.Broadcast({(OffsetsFitFloat(input) ? offset : tap)}f), tap);");
                w.Line($"max = TVector.SelectGreater(v{tap}, max, v{tap}, max);");
            }
        }

        w.Line($"TVector.Store(max, ref Unsafe.Add(ref max0, q));");
        w.Line($"TVector.Store(tap, ref Unsafe.Add(ref tap0, q));");
        w.Close();
        w.Line();
        w.Line($"// Every {Ordinal(Stride)}position starts a window of the output (o < count · {output.Length}: the slices above bound it).");
        w.Line($"for (int j = 0; j < {output.Width}; j++, o++)");
        w.Open();
        w.Line($"Unsafe.Add(ref y0, o) = Unsafe.Add(ref max0, j * {Stride});");
        if (OffsetsFitFloat(input))
        {
            w.Line($"Unsafe.Add(ref argMax0, o) = row + j * {Stride} + (int)Unsafe.Add(ref tap0, j * {Stride});");
        }
        else
        {
            w.Line($"int t = (int)Unsafe.Add(ref tap0, j * {Stride}); // the winning tap's number (m · {Size} + n)");
            w.Line($"Unsafe.Add(ref argMax0, o) = row + j * {Stride} + t / {Size} * {input.Width} + t % {Size};");
        }
        w.Close();
        w.Close();
        w.Close();
        w.Close();
    }

    public override void EmitBackward(SourceWriter w, LayerPlan plan)
    {
        w.Line($"dx.Slice(0, count * {plan.Input.Length}).Clear();");
        w.Line($"for (int o = 0; o < count * {plan.Output.Length}; o++)");
        w.Open();
        w.Line($"dx[argMax[o]] += dy[o];");
        w.Close();
    }
}
