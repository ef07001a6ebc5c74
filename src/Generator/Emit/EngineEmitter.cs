using System.Collections.Generic;
using System.Linq;
using NetGen.Generator.Layers;
using NetGen.Generator.Model;

namespace NetGen.Generator.Emit;

/// <summary>
/// Writes the batch API (<c>TrainBatch</c>, <c>ForwardBatch</c>, <c>PredictBatch</c>, <c>DegreeOfParallelism</c>) and the
/// private engine that runs the generated passes over chunks of a batch on several threads
/// (<c>NetGen.Training.BatchEngine</c>).
/// </summary>
internal static class EngineEmitter
{
    /// <summary>Rows of a dense layer's dL/dW per work item of a batch's gradient phase: enough work to share out, few enough items to balance.</summary>
    private const int RowsPerItem = 32;

    private const string ReadOnlySpan = "global::System.ReadOnlySpan";
    private const string Span = "global::System.Span";
    private const string ParameterRange = "global::NetGen.Training.ParameterRange";

    public static void EmitBatchApi(SourceWriter w, NetworkModel model, BufferPlan buffers)
    {
        string inputShape = model.Input.ToString();
        int classes = model.Last.Output.Length;
        string gc = NetworkEmitter.GeneratedCodeAttribute;
        w.Line($"private Engine? _engine;");
        w.Line();
        bool hasState = model.StateCount + model.CounterCount > 0;
        string engineArguments = string.Join(", ", new[]
        {
            hasState ? (model.Folds ? "_workspace.Buffers, Counters" : "Buffers, Counters") : null,
            model.Folds ? "_workspace.Folded" : null,
        }.Where(static a => a is not null));
        w.Line($"private Engine BatchEngine => _engine ??= new Engine({engineArguments});");
        w.Line();
        w.Summary($"Threads that the batch methods (<see cref=\"TrainBatch\"/>, <see cref=\"ForwardBatch\"/>{(model.IsRegression ? "" : ", <see cref=\"PredictBatch\"/>")}) may use, the calling thread included. Default: all cores. Results do not depend on it.{(SplitEmitter.Splits(model) ? " One-sample calls use them too, for their largest layers." : "")}");
        w.Line($"{gc}");
        w.Line($"public int DegreeOfParallelism");
        w.Open();
        w.Line($"get");
        w.Open();
        NetworkEmitter.EnterCall(w, model);
        w.Line($"return BatchEngine.DegreeOfParallelism;");
        w.Close();
        w.Line();
        w.Line($"set");
        w.Open();
        NetworkEmitter.EnterCall(w, model);
        w.Line($"BatchEngine.DegreeOfParallelism = value;");
        if (SplitEmitter.Splits(model))
        {
            w.Line($"OneSample.Splitter!.DegreeOfParallelism = value;");
        }

        w.Close();
        w.Close();
        w.Line();
        w.Summary($"Forward and backward pass over a batch, on up to <see cref=\"DegreeOfParallelism\"/> threads: sets <see cref=\"Gradients\"/> to the batch's mean dL/dθ and returns its mean loss. Bit-identical whatever the number of threads.");
        w.Line($"/// <param name=\"inputs\">n × {model.Input.Length} floats: n samples of {inputShape}, one after the other.</param>");
        bool regression = model.IsRegression;
        string targets = model.TargetsName, targetsType = regression ? $"{ReadOnlySpan}<float>" : $"{ReadOnlySpan}<int>";
        if (regression)
        {
            w.Line($"/// <param name=\"targets\">n × {classes} floats: each sample's target values.</param>");
            w.Line($"/// <exception cref=\"global::System.ArgumentException\">The batch is empty or the lengths do not match.</exception>");
        }
        else
        {
            w.Line($"/// <param name=\"labels\">n labels, each 0 to {classes - 1}.</param>");
            w.Line($"/// <exception cref=\"global::System.ArgumentException\">The batch is empty or the lengths do not match.</exception>");
            w.Line($"/// <exception cref=\"global::System.ArgumentOutOfRangeException\">A label is not a class.</exception>");
        }

        w.Line($"{gc}");
        var minimum = NetworkEmitter.MinimumTrainingBatch(model);
        string parameters = NetworkEmitter.ParametersArray(model);
        w.Line($"public float TrainBatch({ReadOnlySpan}<float> inputs, {targetsType} {targets})");
        w.Open();
        NetworkEmitter.EnterCall(w, model);
        if (!model.DrawsNoise && minimum is null && !model.Folds)
        {
            w.Line($"return BatchEngine.TrainBatch(Parameters, Gradients, inputs, {targets});");
        }
        else
        {
            if (minimum is { } m)
            {
                string count = regression ? "inputs.Length / InputLength" : "labels.Length";
                w.Line($"if ({count} < {m.Count})");
                w.Open();
                w.Line($"throw new global::System.ArgumentException($\"{m.Layer} needs {m.Count} samples or more in a training batch ({m.Why}); this one has {{{count}}}.\", nameof({targets}));");
                w.Close();
                w.Line();
            }

            if (model.DrawsNoise)
            {
                w.Line($"BatchEngine.NoiseKey = global::NetGen.Kernels.Dropout.Key(_noiseSeed, TrainingStep);");
                NetworkEmitter.EmitTrainingPrepare(w, model);
                w.Line($"float loss = BatchEngine.TrainBatch({parameters}, Gradients, inputs, {targets});");
                w.Line($"TrainingStep++;");
                w.Line($"return loss;");
            }
            else
            {
                NetworkEmitter.EmitTrainingPrepare(w, model);
                w.Line($"return BatchEngine.TrainBatch({parameters}, Gradients, inputs, {targets});");
            }
        }

        w.Close();
        w.Line();
        string outputs = regression ? "outputs" : "probabilities";
        w.Summary($"Runs the network on a batch{(regression ? " (inference mode)" : "")}, on up to <see cref=\"DegreeOfParallelism\"/> threads.");
        w.Line($"/// <param name=\"inputs\">n × {model.Input.Length} floats: n samples of {inputShape}.</param>");
        w.Line($"/// <param name=\"{outputs}\">Receives n × {classes} {(regression ? "outputs" : "probabilities")}, one row per sample.</param>");
        w.Line($"/// <exception cref=\"global::System.ArgumentException\">The batch is empty or the lengths do not match.</exception>");
        w.Line($"{gc}");
        EmitInference(w, model, $"public void ForwardBatch({ReadOnlySpan}<float> inputs, {Span}<float> {outputs})", $"BatchEngine.ForwardBatch({parameters}, inputs, {outputs});");
        w.Line();
        if (!regression)
        {
            w.Summary($"The most probable class of each sample of a batch, on up to <see cref=\"DegreeOfParallelism\"/> threads.");
            w.Line($"/// <param name=\"inputs\">n × {model.Input.Length} floats: n samples of {inputShape}.</param>");
            w.Line($"/// <param name=\"predictions\">Receives n classes.</param>");
            w.Line($"/// <exception cref=\"global::System.ArgumentException\">The batch is empty or the lengths do not match.</exception>");
            w.Line($"{gc}");
            EmitInference(w, model, $"public void PredictBatch({ReadOnlySpan}<float> inputs, {Span}<int> predictions)", $"BatchEngine.PredictBatch({parameters}, inputs, predictions);");
            w.Line();
        }

        EmitEngine(w, model, buffers);
    }

    /// <summary>
    /// An inference method of one statement after the one-call check; where BatchNorms are folded, first recomputing the
    /// folded weights if stale.
    /// </summary>
    private static void EmitInference(SourceWriter w, NetworkModel model, string signature, string statement)
    {
        w.Line($"{signature}");
        w.Open();
        NetworkEmitter.EnterCall(w, model);
        if (model.Folds)
        {
            NetworkEmitter.EmitFoldCall(w, model);
        }

        w.Line($"{statement}");
        w.Close();
    }

    private static void EmitEngine(SourceWriter w, NetworkModel model, BufferPlan buffers)
    {
        List<LayerPlan> batched = model.Layers.Where(p => p.Layer.HasBatchWeightGradient && p.Parameter(TensorRole.Weight) is not null).ToList();
        int items = batched.Sum(p => (p.Output.Length + RowsPerItem - 1) / RowsPerItem);
        bool large = model.Layers.Any(static p => p.Layer.StreamsLargeWeight);
        w.Summary($"Runs the generated passes for <see cref=\"global::NetGen.Training.BatchEngine{{TWorkspace}}\"/>, one workspace per worker thread.");
        w.Line($"{NetworkEmitter.GeneratedCodeAttribute}");
        bool stateful = model.StateCount + model.CounterCount > 0;
        string engineParameters = string.Join(", ", new[] { stateful ? "float[] buffers, long[] counters" : null, model.Folds ? "float[] folded" : null }.Where(static p => p is not null));
        w.Line($"private sealed class Engine({engineParameters}) : global::NetGen.Training.BatchEngine<Workspace>(");
        w.Line($"    InputLength, OutputLength, ParameterCount, s_batchGradientRanges, {items}, BatchChunkSize)");
        w.Open();
        string why = large
            ? $" {BatchChunking.LargeWeightChunkSize}, not {BatchChunking.DefaultChunkSize}: a dense weight larger than a core's L2 cache is read twice per chunk (forward, dL/dx)."
            : "";
        w.Summary($"Samples per chunk of a batch: one worker's unit of work. Chunks are summed in a fixed order, so results do not depend on the thread count.{why}");
        w.Line($"private const int BatchChunkSize = {BatchChunking.ChunkSize(large)};");
        w.Line();
        if (model.DrawsNoise)
        {
            w.Summary($"The key of the current training call's random draws, which every chunk's workspace gets.");
            w.Line($"public ulong NoiseKey;");
            w.Line();
        }

        if (batched.Count > 0)
        {
            w.Summary($"The dense layers' weights, whose gradient a batch computes once over all its samples, in {items} work items of up to {RowsPerItem} rows.");
            w.Line($"private static readonly {ParameterRange}[] s_batchGradientRanges =");
            w.Line($"[");
            foreach (LayerPlan plan in batched)
            {
                ParameterSlot weight = plan.Parameter(TensorRole.Weight)!;
                w.Line($"    new({weight.Offset}, {weight.Tensor.Length}), // {plan.Name}.weight");
            }

            w.Line($"];");
            w.Line();
            w.Line($"// What the chunks keep for those gradients: each such layer's input and dL/dy, for every sample of the batch.");
            foreach (LayerPlan plan in batched)
            {
                w.Line($"private float[] _{Camel(plan.Pascal)}Inputs = [];");
                w.Line($"private float[] _{Camel(plan.Pascal)}OutputGradients = [];");
            }
        }
        else
        {
            w.Line($"private static readonly {ParameterRange}[] s_batchGradientRanges = [];");
        }

        w.Line();
        w.Line($"protected override Workspace CreateWorkspace(int capacity) => new Workspace(capacity{(stateful ? ", buffers, counters" : "")}{(model.Folds ? ", folded" : "")});");
        w.Line();
        if (batched.Count > 0)
        {
            w.Line($"protected override void PrepareBatch(int count)");
            w.Open();
            foreach (LayerPlan plan in batched)
            {
                w.Line($"Grow(ref _{Camel(plan.Pascal)}Inputs, count * {plan.Input.Length});");
                w.Line($"Grow(ref _{Camel(plan.Pascal)}OutputGradients, count * {plan.Output.Length});");
            }

            w.Close();
            w.Line();
        }

        if (model.IsStaged)
        {
            w.Line($"protected override int TrainStages => TrainingStageCount;");
            w.Line();
            w.Line($"protected override void CompleteStage(int stage, {ReadOnlySpan}<Workspace> workspaces, int count) =>");
            w.Line($"    FinishStage(stage, workspaces, count);");
            w.Line();
        }

        string batchWeightGradients = batched.Count > 0 ? "true" : "false";
        string chunkParameters = $"int stage, Workspace ws, {ReadOnlySpan}<float> parameters, {ReadOnlySpan}<float> inputs, " +
                                 $"{ReadOnlySpan}<int> labels, {Span}<float> gradients, int first";
        w.Line($"protected override float TrainChunk({chunkParameters})");
        w.Open();
        if (model.IsRegression)
        {
            w.Line($"int count = inputs.Length / InputLength;");
            w.Line($"global::System.ReadOnlySpan<float> targets = Targets.Slice(first * OutputLength, count * OutputLength);");
        }
        else
        {
            w.Line($"int count = labels.Length;");
        }

        if (model.DrawsNoise)
        {
            w.Line($"ws.NoiseKey = NoiseKey;");
            w.Line($"ws.FirstSample = first;");
        }

        if (model.IsStaged)
        {
            w.Line($"if (stage == 0)");
            w.Open();
            w.Line($"inputs.CopyTo(ws.Input);");
            w.Close();
            w.Line();
            w.Line($"float loss = TrainStage(stage, count, {model.TargetsName}, parameters, gradients, inputGradient: false, batchWeightGradients: {batchWeightGradients}, ws);");
        }
        else
        {
            w.Line($"float loss = TrainSamples(count, inputs, {model.TargetsName}, parameters, gradients, inputGradient: false, batchWeightGradients: {batchWeightGradients}, ws);");
        }

        if (batched.Count > 0)
        {
            if (model.IsStaged)
            {
                w.Line($"if (stage == TrainingStageCount - 1)");
                w.Open();
            }

            w.Line($"// What the batch-gradient phase needs: each such layer's input and dL/dy for these samples.");
            foreach (LayerPlan plan in batched)
            {
                string name = Camel(plan.Pascal);
                string x = buffers.Activation(model.Source(plan, 0)), dy = buffers.Gradient(plan.Index);
                int inputs = plan.Input.Length, outputs = plan.Output.Length;
                w.Line($"global::System.Array.Copy({x}, 0, _{name}Inputs, first * {inputs}, count * {inputs});");
                w.Line($"global::System.Array.Copy({dy}, 0, _{name}OutputGradients, first * {outputs}, count * {outputs});");
            }

            if (model.IsStaged)
            {
                w.Close();
            }

            w.Line();
        }

        w.Line($"return loss;");
        w.Close();
        w.Line();
        if (batched.Count > 0)
        {
            w.Line($"protected override {ParameterRange} ComputeBatchGradient(int item, int count, {Span}<float> gradients)");
            w.Open();
            PassEmitter.EmitKernelSwitch(w, "ComputeBatchGradient", "item, count, gradients", returns: true);
            w.Close();
            w.Line();
            NetworkEmitter.WriteOptimizedQualified(w);
            w.Line($"private {ParameterRange} ComputeBatchGradient<TVector>(int item, int count, {Span}<float> gradients)");
            w.Line($"{PassEmitter.VectorConstraint}");
            w.Open();
            foreach (LayerPlan plan in batched)
            {
                ParameterSlot weight = plan.Parameter(TensorRole.Weight)!;
                int rows = plan.Output.Length, planItems = (rows + RowsPerItem - 1) / RowsPerItem, inputs = weight.Tensor.Length / rows;
                string name = Camel(plan.Pascal);
                w.Line($"// {plan.Name}.weight: {rows} rows, items of {RowsPerItem}");
                w.Line($"if (item < {planItems})");
                w.Open();
                w.Line($"int first = item * {RowsPerItem}, end = global::System.Math.Min(first + {RowsPerItem}, {rows});");
                ProfileSites.Call(w, $"{plan.Name} batch dL/dW",
                    $"{NetworkEmitter.Layers(model)}.{buffers.Methods(plan)}BatchWeightGradient<TVector>(first, end, count, _{name}Inputs, _{name}OutputGradients, gradients.Slice({weight.Offset}, {weight.Tensor.Length}));",
                    $"(long)(end - first) * count * {2 * inputs}L");
                w.Line($"return new({weight.Offset} + first * {inputs}, (end - first) * {inputs}); // the rows written, which the engine scales to the batch mean");
                w.Close();
                w.Line();
                if (plan != batched[batched.Count - 1])
                {
                    w.Line($"item -= {planItems};");
                }
            }

            w.Line($"throw new global::System.ArgumentOutOfRangeException(nameof(item), \"The engine asks only for items 0 to {items - 1}.\");");
            w.Close();
            w.Line();
        }

        w.Line($"protected override void ForwardChunk(Workspace workspace, {ReadOnlySpan}<float> parameters, {ReadOnlySpan}<float> inputs, {Span}<float> probabilities)");
        w.Open();
        w.Line($"int count = probabilities.Length / OutputLength;");
        w.Line($"ForwardPass(count, inputs, parameters, workspace{NetworkEmitter.Training(model, false)});");
        w.Line($"new {ReadOnlySpan}<float>(workspace.{model.Last.Pascal}Output, 0, probabilities.Length).CopyTo(probabilities);");
        w.Close();
        w.Close();
        w.Line();
    }

    private static string Camel(string pascal) => char.ToLowerInvariant(pascal[0]) + pascal.Substring(1);
}
