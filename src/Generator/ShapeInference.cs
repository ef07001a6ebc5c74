using System.Collections.Generic;
using System.Linq;
using System.Text;
using NetGen.Generator.Layers;
using NetGen.Generator.Model;

namespace NetGen.Generator;

/// <summary>
/// The middle of the pipeline: checks the network's structure (Input first and unique, Softmax last), names every
/// layer, resolves which layers each one reads (the one before it, or those it names), runs each layer's shape rule and
/// plan in order, lays the parameters out in one flat vector, fuses neighbours that can share a pass, and folds each
/// BatchNorm after a convolution into it for inference.
/// Pure data in, pure data out; source locations go into the diagnostics only.
/// </summary>
internal static class ShapeInference
{
    /// <summary>Names that would collide with the network's own generated members.</summary>
    private static readonly HashSet<string> ReservedPrefixes = ["Output", "Parameter", "Parameters", "Gradients", "Summary", "Workspace", "Shapes"];

    public static InferenceResult Infer(ParseResult parsed)
    {
        var diagnostics = new List<DiagnosticInfo>(parsed.Diagnostics);
        if (parsed.Spec is not { } spec)
        {
            return new InferenceResult(null, diagnostics.ToEquatableArray());
        }

        IReadOnlyList<LayerDeclaration> layers = spec.Layers;
        string network = spec.Hierarchy.TypeName;
        string[] names = ResolveNames(layers, diagnostics);
        LayerContext Context(int i) => new(names[i], layers[i].Location, diagnostics);

        CheckStructure(layers, names, network, diagnostics);
        if (layers.Count > Check.MaxLayers)
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.SourceTooLarge, layers[Check.MaxLayers].Location, names[Check.MaxLayers],
                $"the network has {layers.Count} layers", "each layer", Check.MaxLayers));
            return new InferenceResult(null, diagnostics.ToEquatableArray());
        }

        for (int i = 0; i < layers.Count; i++)
        {
            layers[i].Layer.ValidateArguments(Context(i));
        }

        if (diagnostics.Any(static d => d.IsError))
        {
            return new InferenceResult(null, diagnostics.ToEquatableArray());
        }

        // The graph: which nodes each computing layer reads, and no output left unread but the last.
        int[][] inputs = ResolveInputs(layers, names, diagnostics);
        if (!diagnostics.Any(static d => d.IsError))
        {
            CheckEveryOutputIsRead(layers, names, inputs, diagnostics);
        }

        if (diagnostics.Any(static d => d.IsError))
        {
            return new InferenceResult(null, diagnostics.ToEquatableArray());
        }

        // Shapes, plans and the parameter layout, layer by layer in declaration order (every input is declared earlier).
        var input = (InputLayer)layers[0].Layer;
        if (input.InferOutputShape([], Context(0)) is not { } inputShape)
        {
            return new InferenceResult(null, diagnostics.ToEquatableArray());
        }

        var plans = new List<LayerPlan>();
        long offset = 0;
        int stateOffset = 0, counters = 0;
        for (int i = 1; i < layers.Count; i++)
        {
            int node = i - 1;
            Shape[] shapes = inputs[node].Select(n => n == LayerPlan.NetworkInput ? inputShape : plans[n].Output).ToArray();
            Layer layer = layers[i].Layer;
            if (layer.InferOutputShape(shapes, Context(i)) is not { } output)
            {
                return new InferenceResult(null, diagnostics.ToEquatableArray());
            }

            layer = layer.Plan(shapes, output);
            var slots = new List<ParameterSlot>();
            foreach (ParameterTensor tensor in layer.GetParameters(shapes[0], output))
            {
                slots.Add(new ParameterSlot(tensor, (int)System.Math.Min(offset, int.MaxValue)));
                offset += tensor.LongLength;
            }

            if (!Check.Fits(Context(i), "the network's parameter count", offset))
            {
                return new InferenceResult(null, diagnostics.ToEquatableArray());
            }

            var state = new List<StateSlot>();
            foreach (StateTensor tensor in layer.GetState(shapes[0], output))
            {
                state.Add(new StateSlot(tensor, tensor.IsCounter ? counters : stateOffset));
                (tensor.IsCounter ? ref counters : ref stateOffset) += tensor.Length;
            }

            plans.Add(new LayerPlan(layer, names[i], Pascal(names[i]), node, inputs[node].ToEquatableArray(), shapes.ToEquatableArray(), output,
                slots.ToEquatableArray(), layer.GetScratchBuffers(shapes[0], output).ToEquatableArray())
            {
                State = state.ToEquatableArray(),
                TensorPrefix = layers[i].TensorPrefix,
            });
        }

        if (diagnostics.Any(static d => d.IsError))
        {
            return new InferenceResult(null, diagnostics.ToEquatableArray());
        }

        Fuse(plans);
        // At most the parameter count, which fits: each fold holds a convolution's weight and as many biases as its BatchNorm has γs.
        int folded = FoldForInference(plans);
        FoldOutputSteps(plans);
        PlanTrainingForms(plans, ref folded);

        var model = new NetworkModel(spec.Hierarchy, inputShape, plans.ToEquatableArray(), (int)offset)
        {
            InputName = names[0],
            StateCount = stateOffset,
            CounterCount = counters,
            FoldedLength = folded,
        };
        return new InferenceResult(model, diagnostics.ToEquatableArray());
    }

    /// <summary>Exactly one Input, first; a loss layer ([Softmax], [MeanSquaredError]) last and only last.</summary>
    private static void CheckStructure(IReadOnlyList<LayerDeclaration> layers, string[] names, string network, List<DiagnosticInfo> diagnostics)
    {
        var inputs = layers.Select((layer, index) => (layer, index)).Where(static p => p.layer.Layer is InputLayer).ToList();
        if (inputs[0].index != 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.InputNotFirst, inputs[0].layer.Location, network, inputs[0].index + 1));
        }

        foreach (var (layer, _) in inputs.Skip(1))
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.DuplicateInput, layer.Location, network));
        }

        for (int i = 0; i < layers.Count - 1; i++)
        {
            if (layers[i].Layer.Targets != TargetKind.None)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.SoftmaxNotLast, layers[i].Location, names[i], layers.Count - 1 - i, layers[i].Layer.Kind));
            }
        }

        if (layers[layers.Count - 1].Layer.Targets == TargetKind.None)
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.MissingSoftmax, layers[layers.Count - 1].Location, network, names[layers.Count - 1]));
        }
    }

    /// <summary>
    /// For each computing layer (node i − 1 for declaration i), the nodes it reads: its main input (the layer declared before
    /// it, or the one it names with <c>Input =</c>), then each layer it joins. A name must be an earlier layer's.
    /// </summary>
    private static int[][] ResolveInputs(IReadOnlyList<LayerDeclaration> layers, string[] names, List<DiagnosticInfo> diagnostics)
    {
        var declared = new Dictionary<string, int>();
        for (int i = 0; i < layers.Count; i++)
        {
            if (!declared.ContainsKey(names[i]))
            {
                declared[names[i]] = i;
            }
        }

        if (layers[0].InputName is { } inputOfInput)
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.InvalidArgument, layers[0].Location, names[0], "Input", "unset (the network's input reads no layer)", inputOfInput));
        }

        int Node(int declaration) => declaration - 1; // declaration 0, the [Input], is node −1 (LayerPlan.NetworkInput)
        int Resolve(int i, string what, string name)
        {
            if (declared.TryGetValue(name, out int at) && at < i)
            {
                return Node(at);
            }

            string why = !declared.TryGetValue(name, out at) ? "but no layer has that name"
                : at == i ? "which is this layer itself"
                : $"which is declared after it (layer {at + 1})";
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnknownLayerReference, layers[i].Location, names[i], what, name, why));
            return LayerPlan.NetworkInput;
        }

        var result = new int[layers.Count - 1][];
        for (int i = 1; i < layers.Count; i++)
        {
            var reads = new List<int> { layers[i].InputName is { } name ? Resolve(i, "Input", name) : Node(i - 1) };
            foreach (string joined in layers[i].Layer.JoinedNames)
            {
                reads.Add(Resolve(i, $"[{layers[i].Layer.Kind}]", joined));
            }

            result[i - 1] = reads.ToArray();
        }

        return result;
    }

    /// <summary>A layer's output that no later layer reads (apart from the last layer's) is a dead branch: an error.</summary>
    private static void CheckEveryOutputIsRead(IReadOnlyList<LayerDeclaration> layers, string[] names, int[][] inputs, List<DiagnosticInfo> diagnostics)
    {
        var read = new HashSet<int>(inputs.SelectMany(static reads => reads));
        for (int node = LayerPlan.NetworkInput; node < inputs.Length - 1; node++)
        {
            if (!read.Contains(node))
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.DeadBranch, layers[node + 1].Location, names[node + 1]));
            }
        }
    }

    /// <summary>
    /// Each layer that can do the work of the one before it (<see cref="Layer.Absorb"/>: a max pooling after a ReLU) takes it
    /// over, where it is that layer's only reader; the absorbed layer stays in the model, for its name and shape, but has no
    /// methods and no buffers.
    /// </summary>
    private static void Fuse(List<LayerPlan> plans)
    {
        for (int i = 0; i + 1 < plans.Count; i++)
        {
            LayerPlan next = plans[i + 1];
            bool onlyReader = next.Inputs.Count == 1 && next.Inputs[0] == i
                && !plans.Any(p => p.Index != next.Index && p.Inputs.Contains(i));
            if (onlyReader && next.Layer.Absorb(plans[i].Layer) is { } fused)
            {
                plans[i] = plans[i] with { FusedIntoNext = true };
                plans[i + 1] = next with { Layer = fused };
            }
        }
    }

    /// <summary>
    /// For the inference passes: each layer that can be folded into the layer it reads, its host (<see cref="Layer.FoldInto"/>:
    /// a BatchNorm into a convolution), is, where it is the host's only reader. The host's plan records its inference form and
    /// where the recomputed weight and bias go in the folded buffer; the folded layer is skipped in inference. Returns the
    /// buffer's length.
    /// </summary>
    private static int FoldForInference(List<LayerPlan> plans)
    {
        // The forward pass is the inference pass only where training runs in stages (TrainStage), as it does in every network
        // with a BatchNorm; elsewhere training runs it too, and it must not read folded weights, only prepared ones.
        bool staged = NetworkModel.TrainsInStages(plans);
        int length = 0;
        for (int i = 0; staged && i < plans.Count; i++)
        {
            LayerPlan plan = plans[i];
            if (plan.FusedIntoNext || plan.Inputs.Count != 1 || plan.Inputs[0] == LayerPlan.NetworkInput)
            {
                continue;
            }

            int node = plan.Inputs[0];
            LayerPlan host = plans[node];
            bool onlyReader = !plans.Any(p => p.Index != plan.Index && p.Inputs.Contains(node));
            if (!onlyReader || host.FusedIntoNext || host.Fold is not null || host.FoldedIntoInput
                || plan.Layer.FoldInto(host.Layer) is not { } folded)
            {
                continue;
            }

            Layer form = folded.InferenceForm(host.Input, host.Output, training: false);
            plans[node] = WithFold(host, form, plan.Layer, plan.Index, new[] { plan.Index }.ToEquatableArray(), static _ => true, ref length);
            plans[i] = plan with { FoldedIntoInput = true };
        }

        // Then every other layer whose form computes over prepared weights (Conv2D's Winograd form, its product with pixels
        // as rows): a fold of nothing, whose slots hold only those, made from the layer's own weight.
        for (int i = 0; i < plans.Count; i++)
        {
            LayerPlan plan = plans[i];
            if (plan.FusedIntoNext || plan.FoldedIntoInput || plan.Fold is not null
                || plan.Layer.InferenceForm(plan.Input, plan.Output, training: !staged) is not { } form || form == plan.Layer)
            {
                continue;
            }

            if (!staged && plan.Layer.WithForwardByForm() is var host && host != plan.Layer)
            {
                plan = plan with { Layer = host, Scratch = host.GetScratchBuffers(plan.Input, plan.Output).ToEquatableArray() };
            }

            plans[i] = WithFold(plan, form, null, plan.Index, EquatableArray<int>.Empty, static t => t.Role is not (TensorRole.Weight or TensorRole.Bias), ref length);
        }

        return length;
    }

    /// <summary>
    /// In a network that trains in stages, whose training forward pass is its own and whose training call runs the backward
    /// pass over several chunks: each layer that computes that forward pass by a form of its own (<see cref="Layer.TrainingForm"/>:
    /// a Winograd form), or whose backward pass reads tensors made from its weight alone (<see cref="Layer.TrainingPrepared"/>),
    /// gets slots in the folded buffer, from <paramref name="length"/> on, for what is made before each training call: the
    /// form's bias and prepared weight, and those tensors. Such a layer's own forward pass is then never emitted
    /// (<see cref="Layer.WithForwardByForm"/>), so what only that pass used goes, and its backward pass reads the prepared
    /// tensors (<see cref="Layer.WithTrainingPrepared"/>).
    /// </summary>
    private static void PlanTrainingForms(List<LayerPlan> plans, ref int length)
    {
        if (!NetworkModel.TrainsInStages(plans))
        {
            return;
        }

        for (int i = 0; i < plans.Count; i++)
        {
            LayerPlan plan = plans[i];
            Layer? form = plan.Fold is { } fold ? plan.Layer.TrainingForm(fold.Layer) : null;
            // A layer on the network's input computes its dL/dx only when asked (TrainSample): it keeps making its own.
            IReadOnlyList<ParameterTensor> prepared = plan.Inputs.Contains(LayerPlan.NetworkInput) ? [] : plan.Layer.TrainingPrepared(plan.Input, plan.Output);
            if (plan.FusedIntoNext || (form is null && prepared.Count == 0))
            {
                continue;
            }

            EquatableArray<ParameterSlot> formSlots = Slots(form?.GetParameters(plan.Input, plan.Output).Where(static t => t.Role != TensorRole.Weight) ?? [], ref length);
            EquatableArray<ParameterSlot> backwardSlots = Slots(prepared, ref length);
            Layer host = form is null ? plan.Layer : plan.Layer.WithForwardByForm();
            host = prepared.Count > 0 ? host.WithTrainingPrepared() : host;
            IEnumerable<ScratchBuffer> scratch = host.GetScratchBuffers(plan.Input, plan.Output);
            plans[i] = plan with
            {
                Layer = host,
                Scratch = (plan.Fold is { } folded ? Joined(scratch, folded.Layer, plan) : scratch).ToEquatableArray(),
                Training = new TrainingForm(form, formSlots, backwardSlots),
            };
        }
    }

    /// <summary>A slot in the folded buffer for each of <paramref name="tensors"/>, from <paramref name="length"/> on (which moves past them).</summary>
    private static EquatableArray<ParameterSlot> Slots(IEnumerable<ParameterTensor> tensors, ref int length)
    {
        var slots = new List<ParameterSlot>();
        foreach (ParameterTensor tensor in tensors)
        {
            slots.Add(new ParameterSlot(tensor, length));
            length += tensor.Length;
        }

        return slots.ToEquatableArray();
    }

    /// <summary>A layer's buffers <paramref name="own"/>, then those of its inference form that it lacks (the Winograd kernel's).</summary>
    private static IEnumerable<ScratchBuffer> Joined(IEnumerable<ScratchBuffer> own, Layer form, LayerPlan plan)
    {
        var buffers = own.ToList();
        return buffers.Concat(form.GetScratchBuffers(plan.Input, plan.Output).Where(b => !buffers.Any(h => h.Name == b.Name)));
    }

    /// <summary>
    /// <paramref name="host"/> with its fold: the form's tensors that <paramref name="recomputed"/> keeps get slots in the
    /// folded buffer from <paramref name="length"/> on (which moves past them), and the form's buffers that the host's
    /// training passes lack (the Winograd kernel's) join the host's.
    /// </summary>
    private static LayerPlan WithFold(LayerPlan host, Layer form, Layer? folding, int node, EquatableArray<int> covers, System.Func<ParameterTensor, bool> recomputed, ref int length)
    {
        EquatableArray<ParameterSlot> slots = Slots(form.GetParameters(host.Input, host.Output).Where(recomputed), ref length);
        return host with
        {
            Fold = new InferenceFold(form, folding, node, slots) { Covers = covers },
            Scratch = Joined(host.Scratch, form, host).ToEquatableArray(),
        };
    }

    /// <summary>
    /// For the inference passes: after each fold, the [Add] and [ReLU] that alone read what it writes, in turn, become its
    /// form's output steps (<see cref="Layer.WithOutputStep"/>), done on each output as the register tiles store it instead
    /// of in passes of their own. An [Add] is taken only where its other input is written before the fold's host runs. A
    /// layer without a fold takes output steps alone (<see cref="InferenceFold.StepsOnly"/>); in a network that does not
    /// train in stages its forward pass is the training pass's too, which is sound: the steps' backward passes need only
    /// their outputs, which the host writes.
    /// </summary>
    private static void FoldOutputSteps(List<LayerPlan> plans)
    {
        for (int h = 0; h < plans.Count; h++)
        {
            LayerPlan host = plans[h];
            if (host.Fold is null && (host.FusedIntoNext || host.FoldedIntoInput))
            {
                continue;
            }

            InferenceFold fold = host.Fold ?? InferenceFold.StepsOnly(host);
            while (true)
            {
                int node = fold.Node;
                var readers = plans.Where(p => p.Inputs.Contains(node)).ToList();
                if (readers.Count != 1 || readers[0].FusedIntoNext || readers[0].Inputs.Count(i => i == node) != 1)
                {
                    break;
                }

                LayerPlan next = readers[0];
                OutputStep step = next.Layer.OutputStep;
                int residual = fold.Residual;
                if (step == OutputStep.AddResidual && next.Inputs.Count == 2)
                {
                    residual = next.Inputs[next.Inputs[0] == node ? 1 : 0];
                    if (WrittenBy(plans, residual) >= h)
                    {
                        break;
                    }
                }
                else if (step != OutputStep.Rectify || next.Inputs.Count != 1)
                {
                    break;
                }

                if (fold.Layer.WithOutputStep(step) is not { } form)
                {
                    break;
                }

                fold = fold with { Layer = form, Node = next.Index, Residual = residual, Covers = fold.Covers.Concat([next.Index]).ToEquatableArray() };
                plans[h] = plans[h] with { Fold = fold };
                plans[next.Index] = next with { FoldedIntoInput = true };
            }
        }
    }

    /// <summary>The node whose forward call writes a node's output in the inference passes: itself, or the host of the fold that covers it.</summary>
    private static int WrittenBy(List<LayerPlan> plans, int node) =>
        node == LayerPlan.NetworkInput || !plans[node].FoldedIntoInput ? node : NetworkModel.FoldHostIn(plans, node).Index;

    /// <summary>Explicit names, or the kind's prefix and its ordinal among layers of that kind; each checked and unique.</summary>
    private static string[] ResolveNames(IReadOnlyList<LayerDeclaration> layers, List<DiagnosticInfo> diagnostics)
    {
        var names = new string[layers.Count];
        var ordinals = new Dictionary<string, int>();
        var taken = new Dictionary<string, int>();
        bool seenInput = false;
        for (int i = 0; i < layers.Count; i++)
        {
            Layer layer = layers[i].Layer;
            if (layer is InputLayer && seenInput)
            {
                names[i] = "input";
                continue; // a second [Input] is already NG0003
            }

            seenInput |= layer is InputLayer;
            ordinals.TryGetValue(layer.DefaultNamePrefix, out int ordinal);
            ordinals[layer.DefaultNamePrefix] = ++ordinal;
            string name = layers[i].Name ?? (layer is InputLayer ? "input" : layer.DefaultNamePrefix + ordinal);
            names[i] = name;

            if (NameProblem(name) is { } problem)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.InvalidLayerName, layers[i].Location, name, problem));
                continue;
            }

            // The input's members are always Input…, whatever its name.
            string prefix = layer is InputLayer ? "Input" : Pascal(name);
            if (taken.TryGetValue(prefix, out int other))
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.DuplicateLayerName, layers[i].Location, name, other + 1, prefix));
            }
            else
            {
                taken[prefix] = i;
            }
        }

        return names;
    }

    /// <summary>Why <paramref name="name"/> cannot name a layer, or null when it can.</summary>
    public static string? NameProblem(string name)
    {
        if (name.Length == 0)
        {
            return "it is empty";
        }

        if (name.Length > 64)
        {
            return "it is longer than 64 characters";
        }

        if (!IsAsciiLetter(name[0]))
        {
            return "it must start with a letter (A–Z, a–z)";
        }

        if (name.Any(static c => !IsAsciiLetter(c) && !(c >= '0' && c <= '9') && c != '_'))
        {
            return "it may contain only letters, digits and '_' (it names generated members and the tensors in a weights file)";
        }

        if (ReservedPrefixes.Contains(Pascal(name)))
        {
            return $"'{Pascal(name)}' would collide with the network's own generated members";
        }

        return null;
    }

    private static bool IsAsciiLetter(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

    /// <summary>The member prefix for a layer name: <c>conv1</c> → <c>Conv1</c>, <c>my_conv</c> → <c>MyConv</c>.</summary>
    public static string Pascal(string name)
    {
        var sb = new StringBuilder(name.Length);
        bool upper = true;
        foreach (char c in name)
        {
            if (c == '_')
            {
                upper = true;
                continue;
            }

            sb.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }

        return sb.ToString();
    }
}
