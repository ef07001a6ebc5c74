using System.Collections.Generic;
using NetGen.Generator.Emit;
using NetGen.Generator.Model;

namespace NetGen.Generator.Layers;

/// <summary>
/// One layer kind: its arguments as parsed from the attribute, its shape rule, its plan (every choice its emitters
/// make, computed once from its shapes), and its forward and backward emitters, which read only the plan. Each kind
/// lives in one file of this folder; adding a kind is adding a file and one line in <see cref="LayerCatalog"/>.
/// </summary>
/// <remarks>
/// Every method processes <c>count</c> samples stored one after the other in each buffer. A layer lists the
/// <see cref="Operand"/>s its forward and backward methods take; the network emitter declares the parameters from them
/// (named <see cref="Operand.Name"/>) and binds each to a workspace buffer. A backward method writes its input gradients
/// (never adds into them: where a layer's output feeds several others, the network sums their gradients itself) and
/// adds its parameter gradients. Activation, gradient and scratch buffers have slack past their end (see the
/// workspace); parameter and gradient spans do not.
/// </remarks>
internal abstract record Layer
{
    /// <summary>The attribute's name without "Attribute": <c>Conv2D</c>, <c>Dense</c>, …</summary>
    public abstract string Kind { get; }

    /// <summary>Prefix of default names: <c>conv</c> gives <c>conv1</c>, <c>conv2</c>, …</summary>
    public abstract string DefaultNamePrefix { get; }

    /// <summary>The layers this one joins to its input, by name as written (<c>[Add("main")]</c>); none for most kinds.</summary>
    public virtual IReadOnlyList<string> JoinedNames => [];

    /// <summary>
    /// Checks the arguments that do not depend on the input (sizes positive, padding not negative), reporting each one
    /// wrong. Run on every layer before any shape, so that all such mistakes show at once.
    /// </summary>
    public virtual bool ValidateArguments(LayerContext context) => true;

    /// <summary>
    /// The shape rule, for valid arguments: the output shape for <paramref name="inputs"/> (the main input's shape, then
    /// each joined layer's), or null after reporting why there is none (a window larger than its input, shapes that do
    /// not match, a size past the limits).
    /// </summary>
    public abstract Shape? InferOutputShape(IReadOnlyList<Shape> inputs, LayerContext context);

    /// <summary>
    /// The layer with its plan: every choice its emitters make that depends on its shapes (unfold or convolve directly,
    /// transposed products, …), recorded in its own value-equatable properties. Most kinds have nothing to choose.
    /// </summary>
    public virtual Layer Plan(IReadOnlyList<Shape> inputs, Shape output) => this;

    /// <summary>The trainable tensors, in PyTorch's order and layout (weight, then bias).</summary>
    public virtual IReadOnlyList<ParameterTensor> GetParameters(Shape input, Shape output) => [];

    /// <summary>
    /// Tensors of the network's state that are not parameters (PyTorch's buffers: a BatchNorm's running statistics), in
    /// PyTorch's <c>state_dict()</c> order; saved and loaded with the parameters, never trained.
    /// </summary>
    public virtual IReadOnlyList<StateTensor> GetState(Shape input, Shape output) => [];

    /// <summary>
    /// The batch-wide reductions inside the layer's training passes (a BatchNorm's statistics): each splits a pass at a
    /// point where every chunk of the batch must have contributed before any chunk goes on (see <see cref="BatchReduction"/>).
    /// </summary>
    public virtual IReadOnlyList<BatchReduction> GetReductions(LayerPlan plan) => [];

    /// <summary>
    /// The fewest samples a training batch may have for this layer (a BatchNorm over 1×1 outputs needs two, to have more
    /// than one value per channel); the network checks it before a training call changes anything. 1 by default.
    /// </summary>
    public virtual int MinimumTrainingBatch(LayerPlan plan) => 1;

    /// <summary>Writes the body of a reduction's per-chunk method: the chunk's contribution into the reduction's partial buffer.</summary>
    public virtual void EmitReduction(SourceWriter w, LayerPlan plan, BatchReduction reduction)
    {
    }

    /// <summary>
    /// Writes the body of a reduction's finishing method, run once per batch after the chunks' partial buffers are summed
    /// (into the first's, in chunk order): from that total, its result, which every chunk then reads.
    /// </summary>
    public virtual void EmitFinish(SourceWriter w, LayerPlan plan, BatchReduction reduction)
    {
    }

    /// <summary>Buffers the layer keeps besides its output (between its forward and backward pass, or as scratch).</summary>
    public virtual IReadOnlyList<ScratchBuffer> GetScratchBuffers(Shape input, Shape output) => [];

    /// <summary>What the forward method takes, in order (besides <c>count</c>).</summary>
    public abstract IReadOnlyList<Operand> ForwardOperands(LayerPlan plan);

    /// <summary>What the backward method takes, in order (besides <c>count</c>).</summary>
    public abstract IReadOnlyList<Operand> BackwardOperands(LayerPlan plan);

    /// <summary>
    /// What the layer trains against when it is the network's last, its loss layer: class labels (softmax cross-entropy) or
    /// target values (mean squared error); <see cref="TargetKind.None"/> for every other kind, which cannot be last.
    /// </summary>
    public virtual TargetKind Targets => TargetKind.None;

    /// <summary>What the loss method takes (besides <c>count</c>): for a loss layer, the operands its loss reads.</summary>
    public virtual IReadOnlyList<Operand> LossOperands(LayerPlan plan) => [];

    /// <summary>Writes the body of <c>float {Pascal}Loss(int count, …)</c>: the sum over the samples of their losses.</summary>
    public virtual void EmitLoss(SourceWriter w, LayerPlan plan)
    {
    }

    /// <summary>
    /// Multiply-adds of the layer's product for one sample (a convolution's or dense layer's), 0 for a layer that only moves,
    /// compares or scales data: the work a profile divides by the time.
    /// </summary>
    public virtual long MultiplyAdds(LayerPlan plan) => 0;

    /// <summary>
    /// How a one-sample forward pass may cut this layer's output units (a convolution's filters, a dense layer's outputs)
    /// into parts that threads compute at once: null (the default) where it cannot. The forward pass is then
    /// <see cref="EmitForwardPrepare"/> once, on the calling thread, and <see cref="EmitForwardUnits"/> per part; every unit
    /// must get the same bits as from <see cref="EmitForward"/>, whatever the parts. Asked only of layers large enough to pay for
    /// the hand-over (see <see cref="SplitPlan"/>).
    /// </summary>
    public virtual SplitPlan? SplitForward(LayerPlan plan) => null;

    /// <summary>
    /// Writes the body of <c>{Pascal}ForwardPrepare&lt;TVector&gt;(…)</c>, over the forward method's operands for one sample: what
    /// every part reads and none may write (the padded or unfolded input). Only with <see cref="SplitPlan.Prepares"/>.
    /// </summary>
    public virtual void EmitForwardPrepare(SourceWriter w, LayerPlan plan)
    {
    }

    /// <summary>
    /// Writes the body of <c>{Pascal}ForwardUnits&lt;TVector&gt;(int first, int units, …)</c>, over the forward method's operands for
    /// one sample: output units <c>first</c> … <c>first + units − 1</c>, after the prepare step. Only where <see cref="SplitForward"/> gives a plan.
    /// </summary>
    public virtual void EmitForwardUnits(SourceWriter w, LayerPlan plan)
    {
    }

    /// <summary>Whether the forward (or backward) method is generic over the vector width (<c>TVector</c>, a <c>NetGen.Kernels.IFloatVector</c>).</summary>
    public virtual bool IsVectorized(bool forward) => false;

    /// <summary>One line for the summary and the method docs: kernel, stride, padding, …</summary>
    public virtual string Describe(LayerPlan plan) => "";

    /// <summary>Comment lines above the forward method: shapes and formula.</summary>
    public abstract string ForwardFormula(LayerPlan plan);

    /// <summary>Comment lines above the backward method: the gradient formulas.</summary>
    public abstract string BackwardFormula(LayerPlan plan);

    /// <summary>Writes the forward method's body.</summary>
    public abstract void EmitForward(SourceWriter w, LayerPlan plan);

    /// <summary>Writes the backward method's body.</summary>
    public abstract void EmitBackward(SourceWriter w, LayerPlan plan);

    /// <summary>
    /// In a backward method, where its parameter gradients are done: leave (<paramref name="exit"/>: <c>return</c>, or
    /// <c>continue</c> inside the loop over samples) when the layer's input is the network's and nobody asked for dL/dx.
    /// </summary>
    protected static void EmitExitWithoutInputGradient(SourceWriter w, string exit = "return", string note = "")
    {
        w.Line($"if (!computeDx)");
        w.Open();
        w.Line($"{exit}; // the network's input: nobody asked for dL/dx{note}");
        w.Close();
    }

    /// <summary>
    /// Whether the weight gradient is one matrix product whose reduction runs over the samples, one row per output (dense):
    /// a training batch then computes it once over all its samples, its rows split among the workers
    /// (<see cref="EmitBatchWeightGradient"/>), and the backward method skips it when its <c>batchWeightGradient</c> argument is true.
    /// </summary>
    public virtual bool HasBatchWeightGradient => false;

    /// <summary>
    /// Whether the layer streams a weight larger than a core's L2 cache once or more per chunk of a batch, so that the
    /// network's chunks are made larger to read it less often (see <see cref="BatchChunking"/>).
    /// </summary>
    public virtual bool StreamsLargeWeight => false;

    /// <summary>
    /// Writes the body of <c>{Pascal}BatchWeightGradient&lt;TVector&gt;(int first, int end, int count, ReadOnlySpan&lt;float&gt; x,
    /// ReadOnlySpan&lt;float&gt; dy, Span&lt;float&gt; weightGradient)</c>: rows first … end − 1 of dL/dW, summed over the
    /// <c>count</c> samples of <c>x</c> and <c>dy</c> (the batch's), written over what the rows held. Only with <see cref="HasBatchWeightGradient"/>.
    /// </summary>
    public virtual void EmitBatchWeightGradient(SourceWriter w, LayerPlan plan)
    {
    }

    /// <summary>
    /// This layer doing the work of <paramref name="previous"/> as well, when it can do both in one pass with the same values and
    /// gradients (a max pooling after a ReLU): the fused layer, which then reads <paramref name="previous"/>'s input and writes
    /// its input gradient; null otherwise (the default). Asked only where this layer is <paramref name="previous"/>'s one reader.
    /// </summary>
    public virtual Layer? Absorb(Layer previous) => null;

    /// <summary>
    /// For the inference passes only: the form <paramref name="previous"/> takes when it does this layer's work as well, over
    /// weights recomputed from both layers' tensors (a BatchNorm folded into the convolution before it: the convolution with a
    /// bias, over W' = W·s and b' = β + (b − μ)·s); null otherwise (the default). Asked only where this layer is
    /// <paramref name="previous"/>'s one reader. Training passes run both layers as declared.
    /// </summary>
    public virtual Layer? FoldInto(Layer previous) => null;

    /// <summary>
    /// The form that computes with kernels needing weights prepared when the parameters change (Conv2D's Winograd kernel, over
    /// a transformed weight among its <see cref="GetParameters"/>), for a fold's form (<see cref="FoldInto"/>) or a layer
    /// without one; the form itself by default. With <paramref name="training"/> the form runs in the training passes too (a
    /// network that does not train in stages), whose backward passes must not rely on anything the plain form leaves behind.
    /// </summary>
    public virtual Layer InferenceForm(Shape input, Shape output, bool training) => this;

    /// <summary>
    /// This layer as the host of a form that runs its training passes' forward pass too (<see cref="InferenceForm"/> with
    /// training): its own forward pass is never emitted, so what only that pass used can go. Itself by default.
    /// </summary>
    public virtual Layer WithForwardByForm() => this;

    /// <summary>
    /// In a network that trains in stages (whose training forward pass is its own, not inference's): the form that pass
    /// computes this layer by, from <paramref name="inferenceForm"/> (a Winograd kernel where the plain pass leaves the
    /// backward pass nothing to reuse), over tensors made from the layer's own weight and bias; null (the default) to run the
    /// layer's own forward pass.
    /// </summary>
    public virtual Layer? TrainingForm(Layer inferenceForm) => null;

    /// <summary>
    /// In a network that trains in stages, whose training call runs the backward pass over several chunks: the tensors this
    /// layer's backward pass reads that are made from its weight alone (Conv2D's turned weight transformed for a Winograd
    /// dL/dx), made once before each training call instead of by every backward call; empty by default. The layer as it
    /// then is: <see cref="WithTrainingPrepared"/>.
    /// </summary>
    public virtual IReadOnlyList<ParameterTensor> TrainingPrepared(Shape input, Shape output) => [];

    /// <summary>This layer reading <see cref="TrainingPrepared"/>'s tensors as operands instead of making them. Itself by default.</summary>
    public virtual Layer WithTrainingPrepared() => this;

    /// <summary>
    /// The lines of <c>{Layer}PrepareTrainingWeights</c> that make <see cref="TrainingPrepared"/>'s tensors from
    /// <c>weight</c>, each into the span its operand names. Nothing by default.
    /// </summary>
    public virtual void EmitPrepareTraining(SourceWriter w, LayerPlan plan)
    {
    }

    /// <summary>
    /// What this layer does to each element of its input when it is done as another layer's output step instead of in a pass
    /// of its own (see <see cref="WithOutputStep"/>): add the other input ([Add]), or max(·, 0) ([ReLU]); none by default.
    /// </summary>
    public virtual OutputStep OutputStep => OutputStep.None;

    /// <summary>
    /// On a fold's form (<see cref="InferenceFold.Layer"/>: a layer with a BatchNorm folded in, or the layer itself): the form
    /// that also does <paramref name="step"/> to each output as it stores it, or null when it cannot (the default).
    /// </summary>
    public virtual Layer? WithOutputStep(OutputStep step) => null;

    /// <summary>
    /// Writes the body of <c>{Layer}FoldBatchNorm</c> (see <see cref="InferenceFold"/>), for a layer that folds into the one it
    /// reads: from <paramref name="into"/>'s tensors and this layer's, the folded layer's weight and bias. Only where
    /// <see cref="FoldInto"/> gave a form.
    /// </summary>
    public virtual void EmitFold(SourceWriter w, LayerPlan plan, LayerPlan into)
    {
    }

    /// <summary>The comment lines over a fold: its formula.</summary>
    public virtual string FoldFormula(LayerPlan plan, LayerPlan into) => "";

    /// <summary>
    /// On a form with tensors besides its weight and bias (<see cref="InferenceForm"/>): writes the lines that make them (each
    /// a <c>Span&lt;float&gt;</c> parameter named as its operand) from the weight it computes with, the variable
    /// <paramref name="weight"/> (the folded weight at the end of <c>{Layer}FoldBatchNorm</c>, or the layer's own in
    /// <c>{Layer}PrepareWeights</c>). Nothing by default.
    /// </summary>
    public virtual void EmitPrepareForm(SourceWriter w, LayerPlan form, string weight)
    {
    }

    /// <summary>
    /// The ONNX operators (opset 17) that compute the layer in inference, in order, as plain data (<see cref="OnnxOperator"/>):
    /// op types, the operands they read, attributes. The network's exporter names the values (each layer's output after the
    /// layer, its tensors as in a weights file), brings each data input to the rank its operator reads (<see cref="OnnxRank"/>)
    /// and writes the list into the generated <c>ExportOnnx</c>. Empty for a layer that is the identity in inference (Dropout).
    /// A function of the layer's arguments and shapes only, so that an importer can check an ONNX node against the mapping
    /// of the layer it would become.
    /// </summary>
    public abstract IReadOnlyList<OnnxOperator> OnnxOperators(LayerPlan plan);

    /// <summary>
    /// Whether the layer's emitted code depends on its position in the network as well as on its arguments and shapes (a
    /// dropout's masks are salted with its index), so that it cannot share another layer's methods.
    /// </summary>
    public virtual bool CodeDependsOnPosition => false;

    /// <summary>
    /// The layer as far as its emitted methods depend on it: itself, or for a join without the joined layer's name (its
    /// operands are passed in, so two joins of equal shapes compute the same whatever they read).
    /// </summary>
    public virtual Layer CodeIdentity => this;

    /// <summary>Writes private helper methods the forward and backward bodies share (none by default).</summary>
    public virtual void EmitHelpers(SourceWriter w, LayerPlan plan)
    {
    }
}

/// <summary>
/// A trainable tensor of a layer: its role, its PyTorch shape, and how it starts: He uniform over <paramref name="FanIn"/>
/// inputs, or (fan-in 0) every element <paramref name="Fill"/>.
/// </summary>
internal sealed record ParameterTensor(TensorRole Role, EquatableArray<int> Dimensions, int FanIn, float Fill = 0f)
{
    public long LongLength
    {
        get
        {
            long n = 1;
            foreach (int d in Dimensions)
            {
                n *= d;
            }

            return n;
        }
    }

    public int Length => (int)LongLength;
}

/// <summary>
/// A buffer of a layer's own, named in its method bodies (e.g. <c>columns</c>): <paramref name="LongLength"/>
/// elements per sample when <paramref name="PerSample"/>, else one buffer of that length reused sample after sample (or,
/// with <paramref name="Samples"/> above 1, that many samples at a time).
/// </summary>
internal sealed record ScratchBuffer(string Name, string ElementType, long LongLength, string Description, bool PerSample, int Samples = 1)
{
    public int Length => (int)LongLength;
}

/// <summary>
/// A tensor of a layer's state that is not a parameter (a running mean, a count of batches): its role, PyTorch shape
/// (empty for a scalar) and initial value. Counters (<see cref="TensorRole.BatchesTracked"/>) are longs, saved as I64.
/// </summary>
internal sealed record StateTensor(TensorRole Role, EquatableArray<int> Dimensions, float Initial)
{
    public bool IsCounter => Role == TensorRole.BatchesTracked;

    public int Length
    {
        get
        {
            int n = 1;
            foreach (int d in Dimensions)
            {
                n *= d;
            }

            return n;
        }
    }
}

/// <summary>
/// A batch-wide reduction inside a layer's training pass: in <paramref name="Forward"/> (or backward) order, just before the
/// layer's own method, every chunk runs <c>{Layer}{Name}</c> (taking <paramref name="Operands"/>) to write its contribution
/// into <paramref name="Partial"/>; the network sums the chunks' partials in chunk order and runs <c>{Layer}Finish{Name}</c>
/// (taking the batch's sample count and <paramref name="FinishOperands"/>), whose <paramref name="Result"/> every chunk
/// then reads. The sums happen in a fixed order, so results do not depend on the thread count.
/// </summary>
internal sealed record BatchReduction(
    string Name, bool Forward, ScratchBuffer Partial, ScratchBuffer Result, EquatableArray<Operand> Operands, EquatableArray<Operand> FinishOperands);

/// <summary>Elementwise work a layer can do as another layer's output step (see <see cref="Layer.WithOutputStep"/>).</summary>
internal enum OutputStep
{
    /// <summary>Not an output step.</summary>
    None,

    /// <summary>y = x + the other input ([Add]).</summary>
    AddResidual,

    /// <summary>y = max(x, 0) ([ReLU]).</summary>
    Rectify,
}

/// <summary>What a network's loss layer trains against.</summary>
internal enum TargetKind
{
    /// <summary>Not a loss layer.</summary>
    None,

    /// <summary>One class label per sample (<c>ReadOnlySpan&lt;int&gt;</c>).</summary>
    Labels,

    /// <summary>One row of target values per sample, as long as the output (<c>ReadOnlySpan&lt;float&gt;</c>).</summary>
    Values,
}

/// <summary>
/// How a one-sample forward pass splits a layer across threads: <paramref name="Units"/> output units (what the layer
/// calls them, <paramref name="UnitName"/>: "filters") in one part per thread, each a multiple of
/// <paramref name="Grain"/> (the last may be smaller; <c>LayerSplitter.Run</c> cuts them), after a prepare step when
/// <paramref name="Prepares"/>. A part reads the whole input, or with <paramref name="ReadsOwnRows"/> only the rows under
/// its own output rows.
/// </summary>
internal sealed record SplitPlan(int Units, int Grain, bool Prepares, string UnitName, bool ReadsOwnRows = false)
{
    /// <summary>
    /// Multiply-adds per sample from which a layer is split: about 5 µs of one core's work, several times what handing a
    /// part to a spinning thread and waiting for it costs.
    /// </summary>
    public const long MinimumMultiplyAdds = 1_000_000;

    /// <summary>
    /// Multiply-adds per float moved between cores from which a layer is split: a worker reads the input the calling
    /// thread wrote (all of it, or with <see cref="ReadsOwnRows"/> about half), and the next layer reads the part of the
    /// output the worker wrote, each a cache line at a time from the other core. Below it (a 64-channel 3×3 convolution
    /// over 7×7 pixels has 288) a split ran no faster on 2 cores, and splitting ResNetBN's convolutions down to 64 made its
    /// one-image pass on 2 threads slower than on one; WideNet's conv2 and dense1 ran faster (docs/benchmarks.md).
    /// </summary>
    public const long MultiplyAddsPerFloat = 512;

    /// <summary>
    /// Whether a layer of <paramref name="multiplyAdds"/> per sample, <paramref name="input"/> and <paramref name="output"/>
    /// floats is worth splitting this way: <see cref="MinimumMultiplyAdds"/>, and <see cref="MultiplyAddsPerFloat"/> per
    /// float that would cross between cores.
    /// </summary>
    public bool Pays(long multiplyAdds, long input, long output) =>
        multiplyAdds >= MinimumMultiplyAdds && multiplyAdds >= MultiplyAddsPerFloat * (ReadsOwnRows ? (input + output) / 2 : input + output);
}

