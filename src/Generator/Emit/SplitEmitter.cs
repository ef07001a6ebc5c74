using System.Collections.Generic;
using System.Linq;
using NetGen.Generator.Layers;
using NetGen.Generator.Model;

namespace NetGen.Generator.Emit;

/// <summary>
/// Writes what lets a one-sample forward pass use several threads: for each layer large enough to pay for a hand-over
/// (<see cref="SplitPlan.MinimumMultiplyAdds"/>) whose kind can cut its output units into parts (<see cref="Layer.SplitForward"/>),
/// a prepare method and a units method beside its forward method; in the forward pass, a branch that runs those parts
/// through the one-sample workspace's splitter when there is one and it may use more than one thread; and the
/// <c>Splitter</c> class (a <c>NetGen.Training.LayerSplitter</c>) that runs a range of split layer i's units. Batch passes never
/// split a layer: their chunks already keep every thread busy.
/// </summary>
internal static class SplitEmitter
{
    /// <summary>The split of <paramref name="plan"/>'s forward pass in the inference pass (its folded form where it has one), or null.</summary>
    public static SplitPlan? Of(LayerPlan plan)
    {
        if (plan.FusedIntoNext || plan.FoldedIntoInput)
        {
            return null;
        }

        LayerPlan form = Form(plan);
        return form.Layer.SplitForward(form) is { } split && split.Pays(form.Layer.MultiplyAdds(form), plan.Input.Length, plan.Output.Length) ? split : null;
    }

    /// <summary>The layers the one-sample forward pass splits, in the order it runs them; a layer's place is its number in <c>Splitter</c>.</summary>
    public static List<LayerPlan> Sites(NetworkModel model) => model.Layers.Where(static p => Of(p) is not null).ToList();

    /// <summary>Whether the network has a layer to split, and so a <c>Splitter</c>.</summary>
    public static bool Splits(NetworkModel model) => model.Layers.Any(static p => Of(p) is not null);

    /// <summary>The layer as the inference pass runs it: with the layer folded into it, or itself.</summary>
    private static LayerPlan Form(LayerPlan plan) => plan.Fold is { } fold ? plan with { Layer = fold.Layer } : plan;

    /// <summary>The forward method the inference pass calls: <c>Forward</c>, or <c>ForwardFolded</c>.</summary>
    private static string Method(LayerPlan plan) => plan.Fold is null ? "Forward" : "ForwardFolded";

    /// <summary>
    /// Beside the forward method of a layer the one-sample pass splits (its folded form's, for <paramref name="folded"/>):
    /// <c>{Method}Prepare</c> and <c>{Method}Units</c>, over the same operands.
    /// </summary>
    public static void EmitMethods(SourceWriter w, LayerPlan plan, bool folded)
    {
        if ((plan.Fold is not null) != folded || Of(plan) is not { } split)
        {
            return;
        }

        LayerPlan form = Form(plan);
        string method = plan.Pascal + Method(plan);
        string operands = string.Join(", ", form.Layer.ForwardOperands(form).Select(o => $"{o.Type(forward: true)} {o.Name}"));
        if (split.Prepares)
        {
            w.Summary($"<c>{method}</c> for one sample, split across threads: what every part reads, made once on the calling thread before <c>{method}Units</c>.");
            w.Line($"{NetworkEmitter.Optimized}");
            w.Line($"internal static void {method}Prepare<TVector>({operands})");
            w.Line($"    where TVector : struct, IFloatVector<TVector>");
            w.Open();
            form.Layer.EmitForwardPrepare(w, form);
            w.Close();
            w.Line();
        }

        w.Summary($"<c>{method}</c> for one sample, output units <paramref name=\"first\"/> to <paramref name=\"first\"/> + <paramref name=\"units\"/> − 1 of {split.Units}: one part of a pass split across threads{(split.Prepares ? $", after <c>{method}Prepare</c>" : "")}. Each unit gets the same bits as from <c>{method}</c>.");
        w.Line($"{NetworkEmitter.Optimized}");
        w.Line($"internal static void {method}Units<TVector>(int first, int units, {operands})");
        w.Line($"    where TVector : struct, IFloatVector<TVector>");
        w.Open();
        form.Layer.EmitForwardUnits(w, form);
        w.Close();
        w.Line();
    }

    /// <summary>At the top of the inference pass of a network with split layers: the one-sample workspace's splitter, if it may use several threads.</summary>
    public static void EmitSplitterLocal(SourceWriter w, NetworkModel model)
    {
        if (!Splits(model))
        {
            return;
        }

        w.Line($"// Only the one-sample workspace has a splitter: with it, the large layers below run in parts on DegreeOfParallelism threads.");
        w.Line($"Splitter? splitter = ws.Splitter is {{ IsParallel: true }} parallel ? parallel : null;");
    }

    /// <summary>
    /// A forward call of the pass one-sample calls run, <paramref name="call"/>, timed as one profile site: for a layer it
    /// may split, behind a branch that, with a splitter, runs the prepare step on this thread and then the parts on the
    /// splitter's threads instead.
    /// </summary>
    public static void EmitForwardCall(SourceWriter w, NetworkModel model, LayerPlan plan, BufferPlan buffers, string call, string label, string flops)
    {
        if (Of(plan) is not { } split)
        {
            ProfileSites.Call(w, label, call, flops);
            return;
        }

        int site = Sites(model).IndexOf(plan);
        ProfileSites.Time(w, label, flops, () =>
        {
            w.Line($"if (splitter is not null)");
            w.Open();
            w.Line($"// One sample: {Units(plan, split)} in one part per thread, each a multiple of {split.Grain}, on the splitter's threads.");
            if (split.Prepares)
            {
                w.Line($"{NetworkEmitter.Layers(model)}.{buffers.Methods(plan)}{Method(plan)}Prepare<TVector>({Arguments(plan, buffers)});");
            }

            w.Line($"splitter.Run({site}, units: {split.Units}, grain: {split.Grain});");
            w.Close();
            w.Line($"else");
            w.Open();
            w.Line($"{call}");
            w.Close();
        });
    }

    /// <summary>"its 64 filters", "its 1024 outputs": what a split layer's units are, for comments.</summary>
    private static string Units(LayerPlan plan, SplitPlan split) => $"{plan.Name}'s {split.Units} {split.UnitName}";

    /// <summary>The forward call's arguments after <c>count</c>, as the inference pass binds them.</summary>
    private static string Arguments(LayerPlan plan, BufferPlan buffers)
    {
        LayerPlan form = Form(plan);
        IEnumerable<Operand> operands = form.Layer.ForwardOperands(form);
        return string.Join(", ", operands.Select(o => plan.Fold is null ? buffers.Bind(plan, o, "false") : buffers.BindFolded(plan, o, "false")));
    }

    /// <summary>
    /// The <c>Splitter</c> class and the network's <c>OneSample</c> property: the one-sample workspace with a splitter attached
    /// (on first use, as the network's field initializers cannot pass it the network).
    /// </summary>
    public static void EmitSplitter(SourceWriter w, NetworkModel model, BufferPlan buffers)
    {
        if (!Splits(model))
        {
            return;
        }

        IReadOnlyList<LayerPlan> sites = Sites(model);
        string parts = string.Join(", ", sites.Select(p => $"{Units(p, Of(p)!)} in multiples of {Of(p)!.Grain}"));
        w.Summary($"The one-sample workspace, given a splitter on first use: <see cref=\"DegreeOfParallelism\"/> sets how many threads the splitter uses.");
        w.Line($"private Workspace OneSample");
        w.Open();
        w.Line($"get");
        w.Open();
        w.Line($"_workspace.Splitter ??= new Splitter(this);");
        w.Line($"return _workspace;");
        w.Close();
        w.Close();
        w.Line();
        w.Summary($"Runs the parts of the large layers of a one-sample forward pass on up to <see cref=\"DegreeOfParallelism\"/> threads, one part per thread: {parts}. Each unit is computed as on one thread, so the outputs are the same bits whatever the thread count.");
        w.Line($"{NetworkEmitter.GeneratedCodeAttribute}");
        w.Line($"private sealed class Splitter({model.Hierarchy.TypeReference} network) : global::NetGen.Training.LayerSplitter");
        w.Open();
        w.Line($"protected override void RunPart(int layer, int first, int count)");
        w.Open();
        PassEmitter.EmitKernelSwitch(w, "RunPart", "layer, first, count");
        w.Close();
        w.Line();
        NetworkEmitter.WriteOptimizedQualified(w);
        w.Line($"private void RunPart<TVector>(int layer, int first, int count)");
        w.Line($"{PassEmitter.VectorConstraint}");
        w.Open();
        w.Line($"global::System.ReadOnlySpan<float> parameters = network.{NetworkEmitter.ParametersArray(model)};");
        w.Line($"Workspace ws = network._workspace;");
        w.Line($"switch (layer)");
        w.Open();
        for (int i = 0; i < sites.Count; i++)
        {
            LayerPlan plan = sites[i];
            SplitPlan split = Of(plan)!;
            w.Line($"case {i}: // {plan.Name}");
            w.Line($"    {NetworkEmitter.Layers(model)}.{buffers.Methods(plan)}{Method(plan)}Units<TVector>(first, count, {Arguments(plan, buffers)});");
            w.Line($"    break;");
        }

        w.Close();
        w.Close();
        w.Close();
        w.Line();
    }
}
