using System;
using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;

namespace NetGen.Generator.Layers;

/// <summary>
/// Conv2D's Winograd form: in the inference passes, a 3×3 stride-1 convolution with a BatchNorm folded in computes by
/// Winograd's F(2×2, 3×3) (<c>Winograd.Forward</c>) where <see cref="ConvolutionStrategy.WinogradPays"/>, over the folded
/// weight transformed once each time the folded weights are recomputed (<see cref="EmitPrepareForm"/>).
/// </summary>
internal sealed partial record Conv2DLayer
{
    /// <summary>Positions ξ of a transformed 4×4 tile: the products per sample.</summary>
    private const int WinogradPositions = 16;

    /// <summary>The Winograd form where it pays (the fold's form always has a bias, which its kernel starts from).</summary>
    public override Layer InferenceForm(Shape input, Shape output) =>
        HasBias && !AddsResidual && !Rectifies && ConvolutionStrategy.WinogradPays(input.Channels, Filters, Groups, KernelHeight, KernelWidth, Stride)
            ? this with { Strategy = Strategy with { Winograd = true } }
            : this;

    /// <summary>Tiles (2 outputs each) along a side of <paramref name="output"/> outputs.</summary>
    private static int WinogradTiles(int output) => (output + 1) / 2;

    /// <summary>U(ξ, t, k) = (G w(k, t) Gᵀ)(ξ): 16 × channels × filters, the B of each position's product.</summary>
    private ParameterTensor TransformedWeight(Shape input) =>
        new(TensorRole.TransformedWeight, new[] { WinogradPositions, input.Channels, Filters }.ToEquatableArray(), 0);

    /// <summary>The two workspaces of <c>Winograd.Forward</c> for one sample (the lengths its <c>GatheredLength</c> and <c>TransformedLength</c> give).</summary>
    private ScratchBuffer[] WinogradBuffers(Shape input, Shape output)
    {
        int tilesDown = WinogradTiles(output.Height), tilesAcross = WinogradTiles(output.Width), tiles = tilesDown * tilesAcross;
        int cells = (2 * tilesDown + 2) * (2 * tilesAcross + 2);
        return
        [
            new("gathered", "float", Math.Max((long)cells * input.Channels, (long)WinogradPositions * tiles * Filters),
                $"one sample's input channels-last with a zero border, {2 * tilesDown + 2}×{2 * tilesAcross + 2} cells of {input.Channels} channels; then the Winograd products, {WinogradPositions} × {tiles} tiles × {Filters} filters",
                PerSample: false),
            new("transformed", "float", (long)tiles * Math.Max(WinogradPositions * input.Channels, 4 * Filters),
                $"one sample's transformed input, {WinogradPositions} × {tiles} tiles × {input.Channels} channels; then its outputs channels-last, {2 * tilesDown}×{2 * tilesAcross} × {Filters} filters",
                PerSample: false),
        ];
    }

    private IReadOnlyList<Operand> WinogradOperands(LayerPlan plan)
    {
        ScratchBuffer[] buffers = WinogradBuffers(plan.Input, plan.Output);
        return
        [
            Operand.X, Operand.TransformedWeight, Operand.Bias, Operand.Y, Operand.Of(buffers[0]), Operand.Of(buffers[1]),
            .. AddsResidual ? new[] { Operand.Residual } : [],
        ];
    }

    /// <summary>The end of the fold's method: the folded weight's Winograd transform.</summary>
    public override void EmitPrepareForm(SourceWriter w, LayerPlan form)
    {
        if (!Strategy.Winograd)
        {
            return;
        }

        w.Line();
        w.Line($"// U(ξ, t, k) = (G · W'(k, t) · Gᵀ)(ξ), ξ = 4a + b, G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]: the Winograd transform of W', {WinogradPositions} × {form.Input.Channels} channels × {Filters} filters, which inference multiplies by.");
        w.Line($"Winograd.TransformWeight(foldedWeight, transformedWeight, filters: {Filters}, channels: {form.Input.Channels});");
    }

    /// <summary>The forward pass by Winograd's F(2×2, 3×3), one sample at a time.</summary>
    private void EmitWinogradForward(SourceWriter w, LayerPlan plan)
    {
        Shape input = plan.Input, output = plan.Output;
        ScratchBuffer[] buffers = WinogradBuffers(input, output);
        int tilesDown = WinogradTiles(output.Height), tilesAcross = WinogradTiles(output.Width), tiles = tilesDown * tilesAcross;
        w.Line($"ref float u0 = ref MemoryMarshal.GetReference(transformedWeight);");
        w.Line($"ref float b0 = ref MemoryMarshal.GetReference(bias);");
        w.Line($"// The slices prove the workspaces' lengths.");
        w.Line($"ref float g0 = ref MemoryMarshal.GetReference(gathered.Slice(0, {buffers[0].Length}));");
        w.Line($"ref float t0 = ref MemoryMarshal.GetReference(transformed.Slice(0, {buffers[1].Length}));");
        w.Line($"for (int s = 0; s < count; s++)");
        w.Open();
        w.Line($"// y(k, i, j) = b(k) + Σ_t Σ_m Σ_n w(k, t, m, n) · x(t, i + m − {Padding}, j + n − {Padding}) by Winograd's F(2×2, 3×3), over {tilesDown}×{tilesAcross} tiles of 2×2 outputs:");
        w.Line($"// 1. gathered(u, v, t) = x(t, u − {Padding}, v − {Padding}), channels-last, zero outside x: {2 * tilesDown + 2}×{2 * tilesAcross + 2} cells of {input.Channels} channels.");
        w.Line($"// 2. V(ξ, r, t) = (Bᵀ · d(r, t) · B)(ξ) for tile r's 4×4 block d of gathered, Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].");
        w.Line($"// 3. M(ξ) = V(ξ) · U(ξ) for ξ < {WinogradPositions}: [{tiles} tiles × {input.Channels}] · [{input.Channels} × {Filters} filters], register tiles of the blocked product.");
        w.Line($"// 4. y(k, 2·ti + a, 2·tj + b) = b(k) + (Aᵀ · M(·, r, k) · A)(a, b) for tile r = (ti, tj), Aᵀ = [1 1 1 0; 0 1 −1 −1], copied out to the planes.");
        EmitEpilogueComment(w);
        w.Line($"Winograd.Forward<TVector>(ref u0, ref b0, ref MemoryMarshal.GetReference(x.Slice(s * {input.Length}, {input.Length})), ref g0, ref t0, ref MemoryMarshal.GetReference(y.Slice(s * {output.Length}, {output.Length})), filters: {Filters}, channels: {input.Channels}, inputHeight: {input.Height}, inputWidth: {input.Width}, padding: {Padding}, samples: 1, inputStride: {input.Length}, outputStride: {output.Length}, epilogue: {EpilogueAt($"s * {output.Length}")});");
        w.Close();
    }
}
