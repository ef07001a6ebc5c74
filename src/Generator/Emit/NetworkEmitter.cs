using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using NetGen.Generator.Layers;
using NetGen.Generator.Model;

namespace NetGen.Generator.Emit;

/// <summary>
/// Writes a network's source from its <see cref="NetworkModel"/>. The file holds two types: the user's partial class,
/// with the public API, the passes over the layers and the workspace, every type name in it <c>global::</c>-qualified
/// so that it compiles whatever the user's namespace declares; and a NetGen-owned file-local class in
/// <c>NetGen.Generated</c> holding each layer's forward and backward methods, whose bodies the layers write themselves
/// with the namespaces they need imported. Nothing here touches Roslyn.
/// </summary>
internal static class NetworkEmitter
{
    public const string ToolName = "NetGen";

    public static readonly string Version = typeof(NetworkEmitter).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>The attribute on each generated type and on each member the generator adds to the user's class.</summary>
    internal static readonly string GeneratedCodeAttribute = $"[global::System.CodeDom.Compiler.GeneratedCode(\"{ToolName}\", \"{Version}\")]";

    /// <summary>
    /// On every layer method and pass: compiled fully optimized at first call instead of going through tiered compilation,
    /// so a network runs at full speed from its first sample; and never inlined, so each is a compilation unit of its own
    /// and the kernels it inlines stay within the JIT's inlining budget.
    /// </summary>
    internal const string Optimized = "[MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]";

    /// <summary>Writes <see cref="Optimized"/> as it must be written in the user's class, where nothing is imported.</summary>
    internal static void WriteOptimizedQualified(SourceWriter w)
    {
        w.Line($"[global::System.Runtime.CompilerServices.MethodImpl(");
        w.Line($"    global::System.Runtime.CompilerServices.MethodImplOptions.NoInlining |");
        w.Line($"    global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]");
    }

    /// <summary>
    /// Writes the first line of a public method that touches the instance's workspaces or state: it claims the instance for
    /// the calling thread until the method returns, and throws if another thread is inside a call on it
    /// (<c>NetGen.Training.ExclusiveCall</c>).
    /// </summary>
    internal static void EnterCall(SourceWriter w, NetworkModel model) =>
        w.Line($"using var call = global::NetGen.Training.ExclusiveCall.Enter(ref _callingThread, {Literal.String(model.Hierarchy.TypeName)});");

    /// <summary>
    /// Each layer's activation after a single-sample call, for feature extraction: a <c>Conv2Output</c> span per layer and
    /// <c>LayerOutput(name)</c>. A layer fused into the next (a ReLU before a max pooling) has no buffer of its own, and a
    /// convolution with its BatchNorm (and any [Add] and [ReLU] after it) folded in writes the last folded layer's output in
    /// inference, not its own or the others': none of those has a property, and <c>LayerOutput</c> says where to look instead.
    /// </summary>
    private static void EmitLayerOutputs(SourceWriter w, NetworkModel model)
    {

        const string after = "of the sample of the last single-sample call (<see cref=\"Forward\"/>, <see cref=\"Predict\"/>, <see cref=\"Loss\"/>, <see cref=\"TrainSample\"/>; not the batch calls), CHW row-major: a view of this instance's workspace, overwritten by the next call";
        var readable = model.Layers.Where(p => !p.FusedIntoNext && !model.InferenceSkipsOutput(p)).ToList();
        foreach (LayerPlan plan in readable)
        {
            w.Summary($"The output of {plan.Name} from the last single-sample call: {plan.Output.Length} floats, {plan.Output.ToFullString()} (see <see cref=\"LayerOutput\"/>).");
            w.Line($"{GeneratedCodeAttribute}");
            w.Line($"public global::System.ReadOnlySpan<float> {plan.Pascal}Output");
            w.Open();
            w.Line($"get");
            w.Open();
            EnterCall(w, model);
            w.Line($"return new(_workspace.{plan.Pascal}Output, 0, {plan.Output.Length});");
            w.Close();
            w.Close();
            w.Line();
        }

        string names = string.Join(", ", readable.Select(static p => p.Name));
        w.Summary($"The output of the layer named <paramref name=\"layer\"/> (as in <see cref=\"Summary\"/>) {after}.");
        w.Line($"/// <param name=\"layer\">A layer's name: {Xml(names)}.</param>");
        w.Line($"/// <exception cref=\"global::System.ArgumentException\">No layer has that name, or its output is not kept (the message says where it is).</exception>");
        w.Line($"{GeneratedCodeAttribute}");
        w.Line($"public global::System.ReadOnlySpan<float> LayerOutput(string layer)");
        w.Open();
        EnterCall(w, model);
        w.Line($"return layer switch");
        w.Open();
        foreach (LayerPlan plan in readable)
        {
            w.Line($"{Literal.String(plan.Name)} => new(_workspace.{plan.Pascal}Output, 0, {plan.Output.Length}),");
        }

        foreach (LayerPlan plan in model.Layers.Where(p => p.FusedIntoNext || model.InferenceSkipsOutput(p)))
        {
            LayerPlan host = plan.Fold is not null || plan.FusedIntoNext ? plan : model.FoldHost(plan.Index);
            string why = plan.FusedIntoNext
                ? $"{plan.Name} is computed inside {model.Layers[plan.Index + 1].Name}, which keeps no separate copy of its output: read {model.Layers[plan.Index + 1].Name}'s"
                : $"inference runs {plan.Name}{(host == plan ? $" with {string.Join(", ", plan.Fold!.Covers.Select(model.NameOf))} folded in" : $" inside {host.Name}")}, writing {model.NameOf(host.Fold!.Node)}'s output only: read {model.NameOf(host.Fold.Node)}'s";
            w.Line($"{Literal.String(plan.Name)} => throw new global::System.ArgumentException({Literal.String(why + ".")}, nameof(layer)),");
        }

        w.Line($"_ => throw new global::System.ArgumentException(");
        w.Line($"    $\"No layer of {model.Hierarchy.TypeName} is named '{{layer}}'; \" +");
        w.Line($"    $\"the layers with an output to read: {{LayerOutputNames}}.\", nameof(layer)),");
        w.Close(";");
        w.Close();
        w.Line();

        w.Line($"private const string LayerOutputNames =");
        EmitConcatenation(w, [names], 90);
        w.Line();
    }

    /// <summary>
    /// The value of a string constant as literals joined by <c>+</c>, one per text, each cut into pieces of at most
    /// <paramref name="piece"/> characters, so that no generated line grows with the text.
    /// </summary>
    private static void EmitConcatenation(SourceWriter w, IEnumerable<string> texts, int piece)
    {
        var pieces = new List<string>();
        foreach (string text in texts)
        {
            for (int at = 0; at < text.Length; at += piece)
            {
                pieces.Add(text.Substring(at, System.Math.Min(piece, text.Length - at)));
            }
        }

        for (int i = 0; i < pieces.Count; i++)
        {
            w.Line($"    {Literal.String(pieces[i])}{(i < pieces.Count - 1 ? " +" : ";")}");
        }
    }

    /// <summary>The hint name of the generated file: <c>Namespace.Class.g.cs</c>.</summary>
    public static string HintName(NetworkModel model)
    {
        var sb = new StringBuilder();
        foreach (char c in model.Hierarchy.FullyQualifiedName)
        {
            sb.Append(char.IsLetterOrDigit(c) || c == '.' || c == '_' ? c : '_');
        }

        return sb.Append(".g.cs").ToString();
    }

    /// <summary>
    /// The file-local class holding the layers' methods. File-local, so every network's file has its own without a clash; in
    /// stack traces and profiles it shows as <c>&lt;Namespace_Class_g&gt;F…__Layers</c>, after the generated file's name.
    /// </summary>
    public static string LayersClass(NetworkModel model) => "Layers";

    /// <summary>
    /// The file-local class as the user's class names it: fully qualified, since a simple name could be shadowed by a type or
    /// namespace of the user's (a namespace <c>Samples</c> hides a method <c>Samples</c> imported with <c>using static</c>).
    /// </summary>
    public static string Layers(NetworkModel model) => "global::NetGen.Generated." + LayersClass(model);

    /// <summary>The network's source file.</summary>
    /// <param name="profile">Whether the compilation defines <see cref="ProfileSites.Symbol"/>: time every layer call (<see cref="ProfileSites"/>).</param>
    public static string Emit(NetworkModel model, bool profile = false)
    {
        var buffers = BufferPlan.For(model);
        var w = new SourceWriter { Profile = profile ? new ProfileSites() : null };
        w.Line($"// <auto-generated/>");
        if (model.ImportedFrom is { } onnx)
        {
            w.Line($"// Generated by {ToolName} {Version} from the ONNX model {Literal.Comment(onnx)}, the [OnnxModel] of {model.Hierarchy.TypeName}.");
            w.Line($"// Every shape, offset and loop bound below was computed at compile time; to change them, change the model.");
        }
        else
        {
            w.Line($"// Generated by {ToolName} {Version} from the layer attributes on {model.Hierarchy.TypeName}.");
            w.Line($"// Every shape, offset and loop bound below was computed at compile time; to change them, change the attributes.");
        }
        w.Line();
        w.Line($"#nullable enable");
        w.Line();

        w.OpenContainers(model.Hierarchy);
        IReadOnlyList<string> declarations = model.Hierarchy.Declarations;
        w.Comment(SummaryTable(model));
        w.Line($"{declarations[declarations.Count - 1]} : global::NetGen.{(model.IsRegression ? "IRegressionNetwork" : "INetwork")}");
        w.Open();
        EmitConstants(w, model);
        EmitParameters(w, model);
        EmitPublicApi(w, model, buffers);
        EngineEmitter.EmitBatchApi(w, model, buffers);
        EmitWeightsApi(w, model);
        OnnxEmitter.EmitExportApi(w, model);
        EmitClone(w, model);
        PassEmitter.EmitPasses(w, model, buffers);
        EmitWorkspace(w, model, buffers);
        SplitEmitter.EmitSplitter(w, model, buffers);
        w.Profile?.EmitProperty(w);
        w.Close();
        w.CloseContainers(model.Hierarchy);

        w.Line();
        LayerEmitter.EmitLayersClass(w, model, buffers);
        return w.ToString();
    }

    /// <summary>A new parameter vector: zeros, or with baked weights the baked values (see <see cref="WeightsEmitter"/>).</summary>
    private static string NewParameters(NetworkModel model) =>
        model.BakedFrom is null ? $"new float[{model.ParameterCount}]" : WeightsEmitter.ParametersInitializer(model);

    private static void EmitConstants(SourceWriter w, NetworkModel model)
    {
        Shape input = model.Input;
        Constant(w, "InputLength", input.Length, $"Floats in one input sample: {input.ToFullString()} (channels × height × width), CHW row-major.");
        Constant(w, "OutputLength", model.Last.Output.Length, "Floats in one output: the number of classes.");
        Constant(w, "ParameterCount", model.ParameterCount, "Trainable parameters: the length of Parameters and Gradients.");

        w.Summary($"The layers, their output shapes and parameter counts, as Keras' <c>model.summary()</c>.");
        w.Line($"{GeneratedCodeAttribute}");
        w.Line($"public const string Summary =");
        // One literal per line of the table.
        string[] lines = SummaryTable(model).Split('\n');
        EmitConcatenation(w, lines.Select((line, i) => line + (i < lines.Length - 1 ? "\n" : "")), SummaryPiece);

        w.Line();
        w.Summary($"The shape of the input and of each layer's output (channels × height × width; a dense layer's is units × 1 × 1).");
        w.Line($"{GeneratedCodeAttribute}");
        w.Line($"public static class Shapes");
        w.Open();
        w.Summary($"The input: {input.ToFullString()}.");
        w.Line($"public static global::NetGen.TensorShape Input => new({input.Channels}, {input.Height}, {input.Width});");
        foreach (LayerPlan plan in model.Layers)
        {
            Shape s = plan.Output;
            w.Line();
            w.Summary($"{plan.Name} ({plan.Layer.Kind}) output: {s.ToFullString()}.");
            w.Line($"public static global::NetGen.TensorShape {plan.Pascal} => new({s.Channels}, {s.Height}, {s.Width});");
        }

        w.Close();
        w.Line();
    }

    private static void Constant(SourceWriter w, string name, int value, string doc)
    {
        w.Summary($"{Xml(doc)}");
        w.Line($"{GeneratedCodeAttribute}");
        w.Line($"public const int {name} = {value};");
        w.Line();
    }

    private static void EmitParameters(SourceWriter w, NetworkModel model)
    {
        string all = $"All {model.ParameterCount} trainable parameters in one buffer: layer by layer, weight then bias, each in PyTorch's layout (conv weight [out, in / groups, kh, kw], dense weight [out, in]), the order of PyTorch's <c>parameters()</c>.";
        if (model.BakedFrom is { } baked)
        {
            all += $" A new instance starts with the values baked from <c>{Xml(baked)}</c> (<c>ResetToBakedWeights</c>).";
        }

        if (model.Folds)
        {
            w.Line($"private float[] _parameters = {NewParameters(model)};");
            w.Line();
            w.Summary($"{all} Getting it (or a span of it) marks the weights that inference computes from it as stale (see <c>PrepareWeights</c>): write through it before the next inference call, not through a copy of the reference kept past one.");
            w.Line($"{GeneratedCodeAttribute}");
            EmitStaleGetter(w, model, "Parameters", "_parameters");
        }
        else
        {
            w.Summary($"{all}");
            w.Line($"{GeneratedCodeAttribute}");
            w.Line($"public float[] Parameters {{ get; private set; }} = {NewParameters(model)};");
        }

        w.Line();
        w.Summary($"dL/dθ for each of <see cref=\"Parameters\"/>, same layout. Training adds into it; see <see cref=\"ZeroGradients\"/>.");
        w.Line($"{GeneratedCodeAttribute}");
        w.Line($"public float[] Gradients {{ get; private set; }} = new float[{model.ParameterCount}];");
        w.Line();

        foreach (LayerPlan plan in model.Layers)
        {
            foreach (ParameterSlot slot in plan.Parameters)
            {
                string role = slot.Tensor.Role.TensorName(), member = plan.Pascal + ShapeInference.Pascal(role);
                string range = $"[{slot.Offset}..{slot.Offset + slot.Tensor.Length})";
                w.Summary($"<c>{plan.TensorName(slot.Tensor.Role)}</c>, shape [{Dimensions(slot)}]: Parameters{range}.");
                w.Line($"{GeneratedCodeAttribute}");
                w.Line($"public global::System.Span<float> {member} => new global::System.Span<float>(Parameters, {slot.Offset}, {slot.Tensor.Length});");
                w.Line();
                w.Summary($"dL/d <c>{plan.TensorName(slot.Tensor.Role)}</c>, shape [{Dimensions(slot)}]: Gradients{range}.");
                w.Line($"{GeneratedCodeAttribute}");
                w.Line($"public global::System.Span<float> {member}Gradient => new global::System.Span<float>(Gradients, {slot.Offset}, {slot.Tensor.Length});");
                w.Line();
            }
        }
    }

    /// <summary>
    /// The layer that needs the most samples in a training batch, how many and why (a BatchNorm over 1×1 outputs needs two);
    /// null when every layer trains on one.
    /// </summary>
    internal static (string Layer, int Count, string Why)? MinimumTrainingBatch(NetworkModel model)
    {
        LayerPlan? most = model.Layers.OrderByDescending(p => p.Layer.MinimumTrainingBatch(p)).FirstOrDefault();
        return most is null || most.Layer.MinimumTrainingBatch(most) <= 1
            ? null
            : ($"{most.Name} ({most.Layer.Kind})", most.Layer.MinimumTrainingBatch(most), "it normalizes with the batch's statistics, over more than one value per channel");
    }

    /// <summary>The docs of a single-sample method's target: a class label or a row of target values.</summary>
    private static void EmitTargetDocs(SourceWriter w, NetworkModel model)
    {
        int outputs = model.Last.Output.Length;
        if (model.IsRegression)
        {
            w.Line($"/// <param name=\"target\">The {outputs} values the output should take.</param>");
            w.Line($"/// <exception cref=\"global::System.ArgumentException\">A span does not have the length above.</exception>");
        }
        else
        {
            w.Line($"/// <param name=\"label\">The true class, 0 to {outputs - 1}.</param>");
            w.Line($"/// <exception cref=\"global::System.ArgumentException\"><paramref name=\"input\"/> does not have {model.Input.Length} floats.</exception>");
            w.Line($"/// <exception cref=\"global::System.ArgumentOutOfRangeException\"><paramref name=\"label\"/> is not a class.</exception>");
        }
    }

    /// <summary>The argument checks of a single-sample method with a target.</summary>
    private static void EmitTargetGuards(SourceWriter w, NetworkModel model)
    {
        w.Line($"global::NetGen.Guard.Length(input.Length, InputLength, nameof(input));");
        if (model.IsRegression)
        {
            w.Line($"global::NetGen.Guard.Length(target.Length, OutputLength, nameof(target));");
        }
        else
        {
            w.Line($"global::NetGen.Guard.Label(label, OutputLength, nameof(label));");
        }
    }

    /// <summary>The <c>training</c> argument of a pass, for networks whose layers have modes; none otherwise.</summary>
    internal static string Training(NetworkModel model, bool training) => model.HasModes ? (training ? ", training: true" : ", training: false") : "";

    /// <summary>The state buffers, their named views and layouts.</summary>
    private static void EmitState(SourceWriter w, NetworkModel model)
    {
        string stale = model.Folds ? " Getting it (or a span of it) marks the weights that inference computes from it as stale, as <see cref=\"Parameters\"/> does." : "";
        w.Summary($"The {model.StateCount} floats of state that are not parameters (PyTorch's buffers: running means and variances), layer by layer in <c>state_dict()</c> order; saved and loaded with the parameters, updated by training, never by an optimizer.{stale}");
        w.Line($"{GeneratedCodeAttribute}");
        if (model.Folds)
        {
            EmitStaleGetter(w, model, "Buffers", "_workspace.Buffers");
        }
        else
        {
            w.Line($"public float[] Buffers => _workspace.Buffers;");
        }

        w.Line();
        w.Summary($"The {model.CounterCount} counters of the state (each BatchNorm's batches tracked), saved as I64.");
        w.Line($"{GeneratedCodeAttribute}");
        w.Line($"public long[] Counters => _workspace.Counters;");
        w.Line();
        w.Summary($"The buffers' initial values: running means 0, running variances 1.");
        w.Line($"private static float[] NewBuffers()");
        w.Open();
        w.Line($"var buffers = new float[{model.StateCount}];");
        foreach (LayerPlan plan in model.Layers)
        {
            foreach (StateSlot slot in plan.State)
            {
                if (!slot.Tensor.IsCounter && slot.Tensor.Initial != 0f)
                {
                    w.Line($"global::System.Array.Fill(buffers, {Literal.Float(slot.Tensor.Initial)}, {slot.Offset}, {slot.Tensor.Length}); // {plan.TensorName(slot.Tensor.Role)}");
                }
            }
        }

        w.Line($"return buffers;");
        w.Close();
        w.Line();
        foreach (LayerPlan plan in model.Layers)
        {
            foreach (StateSlot slot in plan.State)
            {
                string role = slot.Tensor.Role.TensorName(), member = plan.Pascal + ShapeInference.Pascal(role);
                string type = slot.Tensor.IsCounter ? "long" : "float", array = slot.Tensor.IsCounter ? "Counters" : "Buffers";
                string dims = string.Join(", ", slot.Tensor.Dimensions.Select(d => d.ToString(CultureInfo.InvariantCulture)));
                w.Summary($"<c>{plan.TensorName(slot.Tensor.Role)}</c>, shape [{dims}]: {array}[{slot.Offset}..{slot.Offset + slot.Tensor.Length}).");
                w.Line($"{GeneratedCodeAttribute}");
                w.Line($"public global::System.Span<{type}> {member} => new global::System.Span<{type}>({array}, {slot.Offset}, {slot.Tensor.Length});");
                w.Line();
            }
        }
    }

    /// <summary>
    /// How the generated class reads its parameters itself: where inference folds BatchNorms, through the field, since the
    /// <c>Parameters</c> property marks the folded weights stale for callers who may write.
    /// </summary>
    /// <summary>The workspace of one-sample calls: with split layers, the property that first attaches its splitter (see <see cref="SplitEmitter"/>).</summary>
    private static string OneSampleWorkspace(NetworkModel model) => SplitEmitter.Splits(model) ? "OneSample" : "_workspace";

    internal static string ParametersArray(NetworkModel model) => model.Folds ? "_parameters" : "Parameters";

    /// <summary>How the generated class reads its running statistics itself (see <see cref="ParametersArray"/>).</summary>
    internal static string BuffersArray(NetworkModel model) => model.Folds ? "_workspace.Buffers" : "Buffers";

    /// <summary>Before an inference pass: recompute the folded weights if stale.</summary>
    internal static void EmitFoldCall(SourceWriter w, NetworkModel model)
    {
        if (model.Folds)
        {
            w.Line($"PrepareWeights();");
        }
    }

    /// <summary>
    /// Where the parameters or running statistics may change, in a network that folds BatchNorms: mark the folded weights
    /// stale, with <paramref name="why"/> as the line's comment (by default: training, which an optimizer step follows).
    /// </summary>
    internal static void EmitStale(SourceWriter w, NetworkModel model,
        string? why = "training changes the running statistics, and an optimizer step the parameters")
    {
        if (model.Folds)
        {
            w.Line($"_foldedStale = true;{(why is null ? "" : $" // {why}")}");
        }
    }

    /// <summary>
    /// Before a training call. In a network that trains in stages: marks the folded weights stale (training changes the
    /// running statistics, and an optimizer step the parameters), and makes what its training passes read prepared
    /// (<c>PrepareTrainingWeights</c>), if anything. In one whose forward pass, training's too, reads prepared
    /// weights: makes them from the parameters as they are now (the caller may have stepped them through a reference to
    /// <c>Parameters</c> kept from before), then leaves them stale for the inference call after the next such step.
    /// </summary>
    internal static void EmitTrainingPrepare(SourceWriter w, NetworkModel model)
    {
        if (!model.Folds || model.IsStaged)
        {
            EmitStale(w, model);
            if (model.TrainsByForms)
            {
                w.Line($"PrepareTrainingWeights();");
            }

            return;
        }

        w.Line($"PrepareWeightsForTraining();");
    }

    /// <summary>
    /// A public array property over <paramref name="field"/>; where BatchNorms are folded, its getter marks the folded
    /// weights stale, since the caller may write through what it gets.
    /// </summary>
    private static void EmitStaleGetter(SourceWriter w, NetworkModel model, string name, string field)
    {
        w.Line($"public float[] {name}");
        w.Open();
        w.Line($"get");
        w.Open();
        EmitStale(w, model, "the caller may write: the next inference call recomputes the weights made from it");
        w.Line($"return {field};");
        w.Close();
        w.Close();
    }

    /// <summary>
    /// The staleness flag and <c>PrepareWeights</c>, which recomputes the weight and bias of each convolution's inference form
    /// from its own and its BatchNorm's tensors (<see cref="InferenceFold"/>), before an inference pass and only when stale.
    /// </summary>
    private static void EmitFolds(SourceWriter w, NetworkModel model, BufferPlan buffers)
    {
        bool stateful = model.StateCount + model.CounterCount > 0;
        w.Summary($"Whether the weights in <c>_workspace.Folded</c> may be out of date: set wherever the parameters{(stateful ? " or running statistics" : "")} may change (training, <see cref=\"InitializeParameters\"/>, <see cref=\"Load\"/>) and whenever <see cref=\"Parameters\"/>{(stateful ? ", <see cref=\"Buffers\"/>" : "")} or a span of them is handed out; cleared by <see cref=\"PrepareWeights\"/>.");
        w.Line($"private bool _foldedStale = true;");
        w.Line();
        string folding = "folds each BatchNorm that follows a convolution into that convolution's weight and bias, which inference reads instead of running the BatchNorm: W'(k,…) = W(k,…) · s(k), b'(k) = β(k) + (b(k) − running_mean(k)) · s(k), s(k) = γ(k) / √(running_var(k) + ε), b = 0 without a bias";
        string transforming = "makes the weights that kernels read in a layout of their own (a Winograd transform, a transposed weight), each from its convolution's weight";
        string what = model.FoldsBatchNorms && model.TransformsWeights ? $"{folding}; and {transforming}" : model.FoldsBatchNorms ? folding : transforming;
        w.Summary($"Before an inference pass{(model.IsStaged ? "" : " or a training pass")}, if stale: {what}.");
        w.Line($"private void PrepareWeights()");
        w.Open();
        w.Line($"if (!_foldedStale)");
        w.Open();
        w.Line($"return;");
        w.Close();
        w.Line();
        string Parameter(LayerPlan p, TensorRole role) => p.Parameter(role) is { } slot
            ? $"new global::System.ReadOnlySpan<float>({ParametersArray(model)}, {slot.Offset}, {slot.Tensor.Length}), // {p.TensorName(role)}"
            : $"default, // {p.Name} has no {role.TensorName()}";

        // The prepared tensors' spans, the last closing the call: made from W' (folded) or W, as `from` says.
        void Prepared(InferenceFold fold, string from)
        {
            foreach (ParameterSlot prepared in fold.Prepared)
            {
                w.Line($"    {BufferPlan.Folded(prepared, "_workspace.Folded", "Span")}{(prepared == fold.Prepared.Last() ? ");" : ",")} // {prepared.Tensor.Role.TensorName()}, made from {from}");
            }
        }

        foreach (LayerPlan plan in model.Layers)
        {
            switch (plan.Fold)
            {
                case { Folding: not null } fold:
                    LayerPlan norm = model.Layers[fold.FoldedNode];
                    string State(TensorRole role) => norm.StateOf(role) is { } slot
                        ? $"new global::System.ReadOnlySpan<float>(_workspace.Buffers, {slot.Offset}, {slot.Tensor.Length}), // {norm.TensorName(role)}"
                        : "default,";
                    w.Line($"// {plan.Name} with {norm.Name} folded in");
                    w.Line($"{Layers(model)}.{buffers.Methods(plan)}FoldBatchNorm(");
                    w.Line($"    {Parameter(plan, TensorRole.Weight)}");
                    w.Line($"    {Parameter(plan, TensorRole.Bias)}");
                    w.Line($"    {Parameter(norm, TensorRole.Weight)}");
                    w.Line($"    {Parameter(norm, TensorRole.Bias)}");
                    w.Line($"    {State(TensorRole.RunningMean)}");
                    w.Line($"    {State(TensorRole.RunningVar)}");
                    w.Line($"    {BufferPlan.Folded(fold.Parameter(TensorRole.Weight), "_workspace.Folded", "Span")}, // W'");
                    w.Line($"    {BufferPlan.Folded(fold.Parameter(TensorRole.Bias), "_workspace.Folded", "Span")}{(fold.Prepared.Any() ? "," : ");")} // b'");
                    Prepared(fold, "W'");
                    break;
                case { } fold when fold.Prepared.Any():
                    w.Line($"// {plan.Name}'s prepared weights");
                    w.Line($"{Layers(model)}.{buffers.Methods(plan)}PrepareWeights(");
                    w.Line($"    {Parameter(plan, TensorRole.Weight)}");
                    Prepared(fold, "W");
                    break;
            }
        }

        w.Line($"_foldedStale = false;");
        w.Close();
        w.Line();
        if (model.TrainsByForms)
        {
            EmitPrepareTrainingWeights(w, model, buffers, Parameter);
        }

        if (!model.IsStaged)
        {
            w.Summary($"Before a training call: the weights made afresh from the parameters as they are now (the caller may have stepped them through a reference to <see cref=\"Parameters\"/> kept from before), then left stale, since the optimizer step that follows training changes the parameters.");
            w.Line($"private void PrepareWeightsForTraining()");
            w.Open();
            w.Line($"_foldedStale = true;");
            w.Line($"PrepareWeights();");
            w.Line($"_foldedStale = true;");
            w.Close();
            w.Line();
        }
    }

    /// <summary>
    /// <c>PrepareTrainingWeights</c>, in a network that trains in stages where some layers' training passes read tensors made
    /// from their weights (<see cref="LayerPlan.Training"/>): before each training call, each such layer's (a training
    /// form's prepared weight, and its bias from the layer's, zero without one; a turned weight's transform for dL/dx) made
    /// from the parameters as they are now.
    /// </summary>
    private static void EmitPrepareTrainingWeights(SourceWriter w, NetworkModel model, BufferPlan buffers, System.Func<LayerPlan, TensorRole, string> parameter)
    {
        w.Summary($"Before a training call: what the training passes read in place of a layer's weight and bias where they run a form of the layer's own (a Winograd transform of the weight, or of the weight turned for dL/dx), made from the parameters as they are now.");
        w.Line($"private void PrepareTrainingWeights()");
        w.Open();
        foreach (LayerPlan plan in model.Layers.Where(static p => p.Training is not null))
        {
            var prepared = plan.Training!.Prepared.ToList();
            w.Line($"// {plan.Name}'s training {(plan.Training.Layer is null ? "backward pass" : "passes")}");
            w.Line($"{Layers(model)}.{buffers.Methods(plan)}PrepareTrainingWeights(");
            w.Line($"    {parameter(plan, TensorRole.Weight)}");
            foreach (ParameterSlot slot in prepared)
            {
                w.Line($"    {BufferPlan.Folded(slot, "_workspace.Folded", "Span")}{(slot == prepared.Last() ? ");" : ",")} // {slot.Tensor.Role.TensorName()}");
            }

            if (plan.Training.Layer is null)
            {
                continue;
            }

            string to = BufferPlan.Folded(plan.Training.FormParameter(TensorRole.Bias), "_workspace.Folded", "Span");
            if (plan.Parameter(TensorRole.Bias) is { } own)
            {
                w.Line($"// its bias: {plan.TensorName(TensorRole.Bias)}");
                w.Line($"new global::System.ReadOnlySpan<float>({ParametersArray(model)}, {own.Offset}, {own.Tensor.Length}).CopyTo({to});");
            }
            else
            {
                w.Line($"{to}.Clear(); // its bias: zero, as it has none");
            }
        }

        w.Close();
        w.Line();
    }

    private static string Dimensions(ParameterSlot slot) =>
        string.Join(", ", slot.Tensor.Dimensions.Select(d => d.ToString(CultureInfo.InvariantCulture)));

    private static void EmitPublicApi(SourceWriter w, NetworkModel model, BufferPlan buffers)
    {
        string inputShape = model.Input.ToString();
        int classes = model.Last.Output.Length;
        const string Input = "global::System.ReadOnlySpan<float> input";
        const string Guard = "global::NetGen.Guard";

        bool stateful = model.StateCount + model.CounterCount > 0;
        if (stateful)
        {
            // The single-sample workspace owns the state arrays, so that a field initializer can create both.
            string folded = model.Folds ? $", new float[{model.FoldedLength}]" : "";
            (string newBuffers, string newCounters) = model.BakedFrom is null
                ? ("NewBuffers()", $"new long[{model.CounterCount}]")
                : (WeightsEmitter.BuffersInitializer(model), WeightsEmitter.CountersInitializer(model));
            w.Line($"private Workspace _workspace = new Workspace(capacity: 1, {newBuffers}, {newCounters}{folded});");
        }
        else
        {
            w.Line($"private Workspace _workspace = new Workspace(capacity: 1{(model.Folds ? $", new float[{model.FoldedLength}]" : "")});");
        }
        w.Line();
        w.Summary($"The managed thread id of the thread inside a public call on this instance, 0 when none is: a second thread that enters gets an <see cref=\"global::System.InvalidOperationException\"/> instead of corrupting the workspaces.");
        w.Line($"private int _callingThread;");
        w.Line();
        w.Summary($"dL/d(input) of the last <see cref=\"TrainSample\"/> call: {model.Input.Length} floats, {inputShape}.");
        w.Line($"{GeneratedCodeAttribute}");
        w.Line($"public global::System.ReadOnlySpan<float> InputGradient");
        w.Open();
        w.Line($"get");
        w.Open();
        EnterCall(w, model);
        w.Line($"return new(_workspace.InputGradient, 0, InputLength);");
        w.Close();
        w.Close();
        w.Line();
        EmitLayerOutputs(w, model);

        w.Summary($"Fills the weights with He (Kaiming) uniform values, U(±√(6 / fan-in)), and the biases with zeros. The same seed always gives the same bits.");
        w.Line($"/// <param name=\"seed\">The seed of the random sequence.</param>");
        w.Line($"{GeneratedCodeAttribute}");
        w.Line($"public void InitializeParameters(int seed)");
        w.Open();
        EnterCall(w, model);
        w.Line($"var random = new global::NetGen.SeededRandom(seed);");
        foreach (LayerPlan plan in model.Layers)
        {
            foreach (ParameterSlot slot in plan.Parameters)
            {
                string member = plan.Pascal + ShapeInference.Pascal(slot.Tensor.Role.TensorName());
                if (slot.Tensor.FanIn > 0)
                {
                    w.Line($"global::NetGen.ParameterInitializer.HeUniform({member}, fanIn: {slot.Tensor.FanIn}, ref random);");
                }
                else if (slot.Tensor.Fill != 0f)
                {
                    w.Line($"{member}.Fill({Literal.Float(slot.Tensor.Fill)});");
                }
                else
                {
                    w.Line($"{member}.Clear();");
                }
            }
        }

        if (stateful)
        {
            w.Line($"NewBuffers().CopyTo({BuffersArray(model)}, 0);");
            w.Line($"global::System.Array.Clear(Counters);");
        }

        EmitStale(w, model, why: null);
        if (model.DrawsNoise)
        {
            w.Line($"_noiseSeed = seed;");
            w.Line($"TrainingStep = 0;");
        }

        w.Close();
        w.Line();
        if (stateful)
        {
            EmitState(w, model);
        }

        if (model.Folds)
        {
            EmitFolds(w, model, buffers);
        }

        if (model.DrawsNoise)
        {
            w.Line($"private int _noiseSeed;");
            w.Line();
            w.Summary($"Training calls so far: the step whose dropout masks the next training call draws. Each <see cref=\"TrainSample\"/> and <see cref=\"TrainBatch\"/> advances it by one; set it back to redraw a step's masks (a resumed run). <see cref=\"InitializeParameters\"/> sets it to 0 and the masks' seed to its own.");
            w.Line($"{GeneratedCodeAttribute}");
            w.Line($"public long TrainingStep {{ get; set; }}");
            w.Line();
        }

        bool regression = model.IsRegression;
        string output = regression ? "output" : "probabilities";
        w.Summary($"Runs the network on one sample{(regression ? " (inference mode)" : "")}.");
        w.Line($"/// <param name=\"input\">{model.Input.Length} floats: {inputShape}, CHW row-major.</param>");
        string outputDoc = regression ? $"Receives the network's {classes} outputs." : $"Receives the {classes} class probabilities.";
        w.Line($"/// <param name=\"{output}\">{outputDoc}</param>");
        w.Line($"/// <exception cref=\"global::System.ArgumentException\">A span does not have the length above.</exception>");
        w.Line($"{GeneratedCodeAttribute}");
        w.Line($"public void Forward({Input}, global::System.Span<float> {output})");
        w.Open();
        EnterCall(w, model);
        w.Line($"{Guard}.Length(input.Length, InputLength, nameof(input));");
        w.Line($"{Guard}.Length({output}.Length, OutputLength, nameof({output}));");
        EmitFoldCall(w, model);
        w.Line($"ForwardPass(1, input, {ParametersArray(model)}, {OneSampleWorkspace(model)}{Training(model, false)});");
        w.Line($"new global::System.ReadOnlySpan<float>(_workspace.{model.Last.Pascal}Output, 0, OutputLength).CopyTo({output});");
        w.Close();
        w.Line();

        if (!regression)
        {
            w.Summary($"Runs the network on one sample and returns the most probable class (the first, on a tie).");
            w.Line($"/// <param name=\"input\">{model.Input.Length} floats: {inputShape}, CHW row-major.</param>");
            w.Line($"/// <exception cref=\"global::System.ArgumentException\"><paramref name=\"input\"/> does not have {model.Input.Length} floats.</exception>");
            w.Line($"{GeneratedCodeAttribute}");
            w.Line($"public int Predict({Input})");
            w.Open();
            EnterCall(w, model);
            w.Line($"{Guard}.Length(input.Length, InputLength, nameof(input));");
            EmitFoldCall(w, model);
            w.Line($"ForwardPass(1, input, {ParametersArray(model)}, {OneSampleWorkspace(model)}{Training(model, false)});");
            w.Line($"var probabilities = new global::System.ReadOnlySpan<float>(_workspace.{model.Last.Pascal}Output, 0, OutputLength);");
            w.Line($"return global::System.Numerics.Tensors.TensorPrimitives.IndexOfMax(probabilities);");
            w.Close();
            w.Line();
        }

        string loss = regression ? "mean squared error L = (1/n) Σ (y − t)² over the output's n elements" : "softmax cross-entropy loss L = −log p(label)";
        string target = regression ? "global::System.ReadOnlySpan<float> target" : "int label";
        w.Summary($"Forward and backward pass for one sample: adds dL/dθ into <see cref=\"Gradients\"/>, sets <see cref=\"InputGradient\"/>, and returns the {loss}.");
        w.Line($"/// <param name=\"input\">{model.Input.Length} floats: {inputShape}, CHW row-major.</param>");
        EmitTargetDocs(w, model);
        w.Line($"{GeneratedCodeAttribute}");
        w.Line($"public float TrainSample({Input}, {target})");
        w.Open();
        EnterCall(w, model);
        EmitTargetGuards(w, model);
        if (MinimumTrainingBatch(model) is { Count: > 1 } minimum)
        {
            string message = $"{minimum.Layer} needs {minimum.Count} samples or more in a training batch ({minimum.Why}): TrainSample trains on one; use TrainBatch.";
            w.Line($"throw new global::System.InvalidOperationException({Literal.String(message)});");
        }
        else
        {
            if (!regression)
            {
                w.Line($"var labels = new global::System.ReadOnlySpan<int>(in label);");
            }

            if (model.DrawsNoise)
            {
                w.Line($"_workspace.NoiseKey = global::NetGen.Kernels.Dropout.Key(_noiseSeed, TrainingStep++);");
                w.Line($"_workspace.FirstSample = 0;");
            }

            string targets = regression ? "target" : "labels";
            EmitTrainingPrepare(w, model);
            w.Line($"return TrainSamples(1, input, {targets}, {ParametersArray(model)}, Gradients, inputGradient: true, batchWeightGradients: false, {OneSampleWorkspace(model)});");
        }

        w.Close();
        w.Line();

        w.Summary($"The {loss} for one sample (inference mode), without touching <see cref=\"Gradients\"/>.");
        w.Line($"/// <param name=\"input\">{model.Input.Length} floats: {inputShape}, CHW row-major.</param>");
        EmitTargetDocs(w, model);
        w.Line($"{GeneratedCodeAttribute}");
        w.Line($"public float Loss({Input}, {target})");
        w.Open();
        EnterCall(w, model);
        EmitTargetGuards(w, model);
        EmitFoldCall(w, model);
        w.Line($"ForwardPass(1, input, {ParametersArray(model)}, {OneSampleWorkspace(model)}{Training(model, false)});");
        string lossTargets = regression ? "target" : "new global::System.ReadOnlySpan<int>(in label)";
        w.Line($"return LossSum(1, {lossTargets}, _workspace);");
        w.Close();
        w.Line();

        w.Summary($"Sets every gradient to zero.");
        w.Line($"{GeneratedCodeAttribute}");
        w.Line($"public void ZeroGradients()");
        w.Open();
        EnterCall(w, model);
        w.Line($"global::System.Array.Clear(Gradients);");
        w.Close();
        w.Line();

        w.Line($"int global::NetGen.INeuralNetwork.InputLength => InputLength;");
        w.Line($"int global::NetGen.INeuralNetwork.InputChannels => {model.Input.Channels};");
        w.Line($"int global::NetGen.INeuralNetwork.InputHeight => {model.Input.Height};");
        w.Line($"int global::NetGen.INeuralNetwork.InputWidth => {model.Input.Width};");
        w.Line($"int global::NetGen.INeuralNetwork.OutputLength => OutputLength;");
        w.Line($"int global::NetGen.INeuralNetwork.ParameterCount => ParameterCount;");
        w.Line($"global::System.Collections.Generic.IReadOnlyList<global::NetGen.Weights.TensorSlot> global::NetGen.INeuralNetwork.ParameterLayout => s_parameterLayout;");
        EmitTrainingStateApi(w, model);
        w.Line();
    }

    /// <summary>
    /// The interface's view of the state beside the parameters that a training checkpoint keeps: the buffers and counters
    /// with their layouts (empty without BatchNorm), and the dropout masks' seed and step (null without Dropout).
    /// </summary>
    private static void EmitTrainingStateApi(SourceWriter w, NetworkModel model)
    {
        const string Slot = "global::NetGen.Weights.TensorSlot";
        bool stateful = model.StateCount + model.CounterCount > 0;
        w.Line($"// What a training checkpoint keeps beside the parameters: buffers, counters and the dropout masks' position.");
        w.Line($"float[] global::NetGen.INeuralNetwork.Buffers => {(stateful ? "Buffers" : "global::System.Array.Empty<float>()")};");
        w.Line($"long[] global::NetGen.INeuralNetwork.Counters => {(stateful ? "Counters" : "global::System.Array.Empty<long>()")};");
        w.Line($"global::System.Collections.Generic.IReadOnlyList<{Slot}> global::NetGen.INeuralNetwork.BufferLayout => {(stateful ? "s_bufferLayout" : $"global::System.Array.Empty<{Slot}>()")};");
        w.Line($"global::System.Collections.Generic.IReadOnlyList<{Slot}> global::NetGen.INeuralNetwork.CounterLayout => {(stateful ? "s_counterLayout" : $"global::System.Array.Empty<{Slot}>()")};");
        w.Line($"global::NetGen.DropoutState? global::NetGen.INeuralNetwork.Dropout");
        w.Open();
        if (model.DrawsNoise)
        {
            w.Line($"get => new global::NetGen.DropoutState(_noiseSeed, TrainingStep);");
            w.Line($"set");
            w.Open();
            string message = $"{model.Hierarchy.TypeName} has Dropout layers: its dropout state cannot be null.";
            w.Line($"global::NetGen.DropoutState state = value ?? throw new global::System.ArgumentNullException(nameof(value), {Literal.String(message)});");
            w.Line($"_noiseSeed = state.Seed;");
            w.Line($"TrainingStep = state.Step;");
            w.Close();
        }
        else
        {
            w.Line($"get => null;");
            w.Line($"set");
            w.Open();
            w.Line($"if (value is not null)");
            w.Open();
            string message = $"{model.Hierarchy.TypeName} has no Dropout layer: its dropout state is null.";
            w.Line($"throw new global::System.ArgumentException({Literal.String(message)}, nameof(value));");
            w.Close();
            w.Close();
        }

        w.Close();
    }

    private static void EmitWeightsApi(SourceWriter w, NetworkModel model)
    {
        w.Summary($"Where each tensor lives in <see cref=\"Parameters\"/>, under the name PyTorch's <c>state_dict()</c> gives it.");
        w.Line($"private static readonly global::NetGen.Weights.TensorSlot[] s_parameterLayout =");
        w.Line($"[");
        foreach (LayerPlan plan in model.Layers)
        {
            foreach (ParameterSlot slot in plan.Parameters)
            {
                w.Line($"    new({Literal.String(plan.TensorName(slot.Tensor.Role))}, [{Dimensions(slot)}], {slot.Offset}),");
            }
        }

        w.Line($"];");
        w.Line();
        if (model.StateCount + model.CounterCount > 0)
        {
            foreach (bool counters in new[] { false, true })
            {
                w.Summary($"Where each {(counters ? "counter" : "buffer")} lives in <see cref=\"{(counters ? "Counters" : "Buffers")}\"/>, under its <c>state_dict()</c> name.");
                w.Line($"private static readonly global::NetGen.Weights.TensorSlot[] s_{(counters ? "counter" : "buffer")}Layout =");
                w.Line($"[");
                foreach (LayerPlan plan in model.Layers)
                {
                    foreach (StateSlot slot in plan.State.Where(s => s.Tensor.IsCounter == counters))
                    {
                        string dims = string.Join(", ", slot.Tensor.Dimensions.Select(d => d.ToString(CultureInfo.InvariantCulture)));
                        w.Line($"    new({Literal.String(plan.TensorName(slot.Tensor.Role))}, [{dims}], {slot.Offset}),");
                    }
                }

                w.Line($"];");
                w.Line();
            }
        }

        if (model.StateCount + model.CounterCount > 0)
        {
            w.Summary($"The tensors of <see cref=\"Buffers\"/>: <c>state_dict()</c> names (<c>bn1.running_mean</c>, …), shapes and offsets, in order.");
            w.Line($"{GeneratedCodeAttribute}");
            w.Line($"public static global::System.Collections.Generic.IReadOnlyList<global::NetGen.Weights.TensorSlot> BufferLayout => s_bufferLayout;");
            w.Line();
            w.Summary($"The tensors of <see cref=\"Counters\"/>: <c>state_dict()</c> names (<c>bn1.num_batches_tracked</c>), shapes ([], scalars) and offsets.");
            w.Line($"{GeneratedCodeAttribute}");
            w.Line($"public static global::System.Collections.Generic.IReadOnlyList<global::NetGen.Weights.TensorSlot> CounterLayout => s_counterLayout;");
            w.Line();
        }

        w.Summary($"The tensors of <see cref=\"Parameters\"/>: PyTorch names (<c>conv1.weight</c>, …), shapes and offsets, in order.");
        w.Line($"{GeneratedCodeAttribute}");
        w.Line($"public static global::System.Collections.Generic.IReadOnlyList<global::NetGen.Weights.TensorSlot> ParameterLayout => s_parameterLayout;");
        w.Line();
        w.Summary($"Writes <see cref=\"Parameters\"/> to a safetensors file, one F32 tensor per weight and bias under PyTorch's names, so <c>safetensors.torch.load_file</c> reads it into the same architecture. Written to a temporary file, then renamed.");
        w.Line($"/// <param name=\"path\">The file to write (replaced if it exists).</param>");
        w.Line($"{GeneratedCodeAttribute}");
        string state = model.StateCount + model.CounterCount > 0 ? $", {BuffersArray(model)}, s_bufferLayout, Counters, s_counterLayout" : "";
        w.Line($"public void Save(string path)");
        w.Open();
        EnterCall(w, model);
        w.Line($"global::NetGen.Weights.SafeTensors.Save(path, {ParametersArray(model)}, s_parameterLayout{state});");
        w.Close();
        w.Line();
        w.Summary($"Reads <see cref=\"Parameters\"/> from a safetensors file (ours, or PyTorch's <c>save_file</c> of the same architecture). Every name, dtype, shape and offset is checked before any parameter changes.");
        w.Line($"/// <param name=\"path\">The file to read.</param>");
        w.Line($"/// <exception cref=\"global::System.IO.InvalidDataException\">The file is corrupt or holds another architecture; the parameters are unchanged.</exception>");
        w.Line($"{GeneratedCodeAttribute}");
        w.Line($"public void Load(string path)");
        w.Open();
        EnterCall(w, model);
        w.Line($"global::NetGen.Weights.SafeTensors.Load(path, {ParametersArray(model)}, s_parameterLayout{state});");
        EmitStale(w, model, why: null);
        w.Close();
        w.Line();
        w.Summary($"Reads <see cref=\"Parameters\"/> from a safetensors file written elsewhere (PyTorch's <c>save_file</c> of a <c>state_dict</c>): names renamed by <paramref name=\"options\"/> (<see cref=\"global::NetGen.Weights.SafeTensorsLoadOptions.StripPrefix(string)\"/> for <c>model.</c>), F16 and BF16 converted to F32, extra tensors ignored when not strict. Everything is checked before any parameter changes.");
        w.Line($"/// <param name=\"path\">The file to read.</param>");
        w.Line($"/// <param name=\"options\">The rename and the strictness.</param>");
        w.Line($"/// <returns>The file's names of the tensors that were ignored (empty when every tensor was used).</returns>");
        w.Line($"/// <exception cref=\"global::System.IO.InvalidDataException\">The file is corrupt, lacks a tensor, or (strict) holds one this network does not have; the message lists the file's and the expected names, and the parameters are unchanged.</exception>");
        w.Line($"{GeneratedCodeAttribute}");
        w.Line($"public global::System.Collections.Generic.IReadOnlyList<string> Load(string path, global::NetGen.Weights.SafeTensorsLoadOptions options)");
        w.Open();
        EnterCall(w, model);
        w.Line($"global::System.Collections.Generic.IReadOnlyList<string> ignored = global::NetGen.Weights.SafeTensors.Load(path, {ParametersArray(model)}, s_parameterLayout{state}, options);");
        EmitStale(w, model, why: null);
        w.Line($"return ignored;");
        w.Close();
        w.Line();
    }

    /// <summary>
    /// <c>Clone()</c>: a memberwise copy of the instance (which runs no constructor, so it works whatever constructors the
    /// user's class declares), whose reference-typed state then gets arrays of its own: parameters, gradients, the
    /// single-sample workspace with the buffers and counters it owns, and no batch engine yet.
    /// </summary>
    private static void EmitClone(SourceWriter w, NetworkModel model)
    {
        string self = model.Hierarchy.TypeReference;
        bool stateful = model.StateCount + model.CounterCount > 0;
        string state = (stateful ? "running statistics and counters, " : "") + (model.DrawsNoise ? "dropout seed and <see cref=\"TrainingStep\"/>, " : "");
        w.Summary($"A new {model.Hierarchy.TypeName} that shares nothing mutable with this one: a copy of the parameters, the gradients, {state}<see cref=\"InputGradient\"/> and <see cref=\"DegreeOfParallelism\"/>, with workspaces of its own. Right after cloning both give the same outputs bit for bit; then each is used, trained or loaded without affecting the other. An instance runs one call at a time, so a clone per thread (or a <see cref=\"global::NetGen.Predictor{{TNetwork}}\"/>, which holds several) runs inference on several threads at once. Fields you declare in this class are copied as <see cref=\"object.MemberwiseClone\"/> copies them: an object they reference is shared.");
        w.Line($"{GeneratedCodeAttribute}");
        w.Line($"public {self} Clone()");
        w.Open();
        EnterCall(w, model);
        w.Line($"var clone = ({self})MemberwiseClone();");
        w.Line($"clone._callingThread = 0; // this thread is inside a call on this instance, not on the clone");
        if (model.Folds)
        {
            w.Line($"clone._parameters = (float[])_parameters.Clone();");
        }
        else
        {
            w.Line($"clone.Parameters = (float[])Parameters.Clone();");
        }

        w.Line($"clone.Gradients = (float[])Gradients.Clone();");
        if (stateful)
        {
            string folded = model.Folds ? $", new float[{model.FoldedLength}]" : "";
            w.Line($"clone._workspace = new Workspace(capacity: 1, (float[]){BuffersArray(model)}.Clone(), (long[])Counters.Clone(){folded});");
        }
        else
        {
            w.Line($"clone._workspace = new Workspace(capacity: 1{(model.Folds ? $", new float[{model.FoldedLength}]" : "")});");
        }

        w.Line($"global::System.Array.Copy(_workspace.InputGradient, clone._workspace.InputGradient, InputLength);");
        w.Line($"clone._engine = null;");
        if (model.Folds)
        {
            w.Line($"clone._foldedStale = true; // its folded weights are computed from its own copies at its first inference call");
        }

        w.Line($"if (_engine is {{ }} engine)");
        w.Open();
        w.Line($"clone.DegreeOfParallelism = engine.DegreeOfParallelism;");
        w.Close();
        w.Line();
        w.Line($"return clone;");
        w.Close();
        w.Line();
        w.Line($"global::NetGen.INeuralNetwork global::NetGen.INeuralNetwork.Clone() => Clone();");
        w.Line();
    }

    private static void EmitWorkspace(SourceWriter w, NetworkModel model, BufferPlan buffers)
    {
        w.Summary($"The state of up to <c>capacity</c> samples in flight: every activation, each layer's own buffers and the gradients flowing back, sample after sample in each buffer. Kept apart from the parameters, so that several workspaces can run over one set of parameters. Each buffer ends with {Slack} floats of slack, which lets the vector kernels finish a row with one masked vector instead of a scalar loop.");
        w.Line($"{GeneratedCodeAttribute}");
        bool stateful = model.StateCount + model.CounterCount > 0;
        w.Line($"private sealed class Workspace(int capacity{(stateful ? ", float[] buffers, long[] counters" : "")}{(model.Folds ? ", float[] folded" : "")})");
        w.Open();
        if (stateful)
        {
            w.Summary($"The network's buffers (running statistics), shared by all its workspaces: {model.StateCount} floats.");
            w.Line($"public readonly float[] Buffers = buffers;");
            w.Line();
            w.Summary($"The network's counters (batches tracked), shared by all its workspaces: {model.CounterCount} longs.");
            w.Line($"public readonly long[] Counters = counters;");
            w.Line();
        }

        if (model.Folds)
        {
                string held = model.FoldsBatchNorms && model.TransformsWeights ? "The weights and biases of the convolutions with a BatchNorm folded in, which inference reads, and the weights transformed for the Winograd kernels"
                : model.FoldsBatchNorms ? "The weights and biases of the convolutions with a BatchNorm folded in, which inference reads"
                : "The weights transformed for the Winograd kernels";
            w.Summary($"{held} (see <c>PrepareWeights</c>), shared by all the network's workspaces: {model.FoldedLength} floats.");
            w.Line($"public readonly float[] Folded = folded;");
            w.Line();
        }

        if (SplitEmitter.Splits(model))
        {
            w.Summary($"The splitter one-sample passes run their large layers with: only the one-sample workspace has one (see <c>OneSample</c>).");
            w.Line($"public Splitter? Splitter;");
            w.Line();
        }

        if (model.DrawsNoise)
        {
            w.Summary($"The key of this training step's random draws (dropout masks), set before each training call.");
            w.Line($"public ulong NoiseKey;");
            w.Line();
            w.Summary($"The index in the batch of the first sample in this workspace, for the dropout masks.");
            w.Line($"public int FirstSample;");
            w.Line();
        }

        bool first = true;
        foreach (WorkspaceBuffer buffer in buffers.Buffers())
        {
            if (!first)
            {
                w.Line();
            }

            first = false;
            string size = buffer.PerSample ? $"capacity * {buffer.Length}" : $"{buffer.Length}";
            w.Summary($"{Xml(buffer.Description)}");
            w.Line($"public readonly {buffer.ElementType}[] {buffer.Name} = new {buffer.ElementType}[{size} + {Slack}];");
        }

        w.Close();
    }

    /// <summary>The most characters of the summary table in one string literal.</summary>
    private const int SummaryPiece = 96;

    /// <summary>Floats past the end of every workspace buffer: more than a vector of the widest kind (16 floats).</summary>
    private const int Slack = 32;

    /// <summary>The Keras-style summary table (also written as a comment above the class); with the inputs of each layer when the network branches.</summary>
    public static string SummaryTable(NetworkModel model)
    {
        bool branched = model.IsBranched;
        var rows = new List<(string Layer, string Shape, string Params, string Inputs)>
        {
            ($"{model.InputName} (Input)", model.Input.ToString(), "0", ""),
        };
        rows.AddRange(model.Layers.Select(p => (
            $"{p.Name} ({p.Layer.Kind})",
            p.Output.ToString(),
            p.ParameterCount.ToString("N0", CultureInfo.InvariantCulture),
            string.Join(", ", p.Inputs.Select(model.NameOf)))));
        int a = System.Math.Max(14, rows.Max(r => r.Layer.Length) + 2);
        int b = System.Math.Max(14, rows.Max(r => r.Shape.Length) + 2);
        int c = System.Math.Max(9, rows.Max(r => r.Params.Length));
        var sb = new StringBuilder();
        sb.Append($"{model.Hierarchy.TypeName}\n");
        sb.Append("Layer (type)".PadRight(a)).Append("Output shape".PadRight(b)).Append("Param #".PadLeft(c));
        int width = a + b + c;
        if (branched)
        {
            sb.Append("  Reads");
            width += 2 + System.Math.Max(5, rows.Max(r => r.Inputs.Length));
        }

        sb.Append('\n').Append('-', width).Append('\n');
        foreach (var (layer, shape, parameters, inputs) in rows)
        {
            sb.Append(layer.PadRight(a)).Append(shape.PadRight(b)).Append(parameters.PadLeft(c));
            if (branched && inputs.Length > 0)
            {
                sb.Append("  ").Append(inputs);
            }

            sb.Append('\n');
        }

        sb.Append('-', width).Append('\n');
        sb.Append("Total parameters: ").Append(model.ParameterCount.ToString("N0", CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    internal static string Xml(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
