using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using NetGen.Optimizers;
using NetGen.Weights;

namespace NetGen.Training;

/// <summary>
/// A training checkpoint: one safetensors file with everything a run needs to continue exactly where it stopped.
/// The tensors are the network's own, under the names its <see cref="INeuralNetwork.Save"/> gives them, then the
/// optimizer's state vectors as <c>optimizer.&lt;PyTorch state key&gt;</c> (F32, shape [parameters]) and its step count
/// as <c>optimizer.step</c> (I64, shape []), then, when the best epoch so far is not the checkpoint's own, the
/// <see cref="BestModel"/>'s network as <c>best_model.&lt;name&gt;</c>. The run's position goes in <c>__metadata__</c>
/// (see <see cref="Keys"/>). Every buffer is made once per <c>Fit</c>; a write allocates only the metadata and the file.
/// </summary>
internal sealed class TrainingCheckpoint
{
    /// <summary>The format's version, the value of <see cref="Keys.Format"/>.</summary>
    public const string FormatVersion = "1";

    private const string OptimizerPrefix = "optimizer.";
    private const string OptimizerStep = "optimizer.step";
    private const string BestPrefix = "best_model.";

    private readonly INeuralNetwork _network;
    private readonly IOptimizer _optimizer;
    private readonly IStatefulOptimizer? _stateful;
    private readonly TrainerOptions _options;
    private readonly int _samples;
    private readonly TensorSlot[] _parameterLayout;
    private readonly TensorSlot[] _bufferLayout;
    private readonly TensorSlot[] _counterLayout;
    private readonly int _parameters;
    private readonly int _buffers;
    private readonly int _counters;
    private readonly int _optimizerFloats;
    private readonly int _optimizerLongs;
    private readonly Layouts _plain;
    private readonly Layouts? _withBest;

    public TrainingCheckpoint(INeuralNetwork network, IOptimizer optimizer, TrainerOptions options, int samples)
    {
        _network = network;
        _optimizer = optimizer;
        _stateful = optimizer as IStatefulOptimizer;
        _options = options;
        _samples = samples;
        _parameterLayout = [.. network.ParameterLayout];
        _bufferLayout = [.. network.BufferLayout];
        _counterLayout = [.. network.CounterLayout];
        _parameters = network.ParameterCount;
        _buffers = network.Buffers.Length;
        _counters = network.Counters.Length;
        _optimizerFloats = _stateful is null ? 0 : _stateful.StateNames.Count * _parameters;
        _optimizerLongs = _stateful is null ? 0 : 1;
        _plain = new Layouts(this, withBest: false);
        _withBest = options.BestModel is null ? null : new Layouts(this, withBest: true);
    }

    /// <summary>The <c>__metadata__</c> keys of a checkpoint; every value is a string in the invariant culture.</summary>
    public static class Keys
    {
        /// <summary><see cref="FormatVersion"/>: marks the file as a training checkpoint.</summary>
        public const string Format = "netgen.checkpoint";

        /// <summary>The epochs completed (k); a resumed run continues at k + 1.</summary>
        public const string Epoch = "epoch";

        /// <summary>The optimizer steps taken over the run: the learning-rate schedule's position.</summary>
        public const string Step = "step";

        /// <summary><see cref="TrainerOptions.Seed"/>: the seed of every epoch's order and augmentation.</summary>
        public const string Seed = "seed";

        /// <summary><see cref="TrainerOptions.BatchSize"/>.</summary>
        public const string BatchSize = "batch_size";

        /// <summary>The training set's sample count.</summary>
        public const string Samples = "samples";

        /// <summary>The optimizer's <see cref="IOptimizer.LearningRate"/> after the last step (round-trip format).</summary>
        public const string LearningRate = "learning_rate";

        /// <summary>The optimizer's <see cref="IStatefulOptimizer.Kind"/>; absent for an optimizer without saved state.</summary>
        public const string Optimizer = "optimizer";

        /// <summary>The network's <see cref="DropoutState.Seed"/>; absent without Dropout.</summary>
        public const string DropoutSeed = "dropout.seed";

        /// <summary>The network's <see cref="DropoutState.Step"/>; absent without Dropout.</summary>
        public const string DropoutStep = "dropout.step";

        /// <summary><see cref="EarlyStopping"/>'s monitor, mode and minimum change (<c>Loss Auto 0</c>); absent without it.</summary>
        public const string EarlyStopping = "early_stopping";

        /// <summary>The best value <see cref="EarlyStopping"/> has seen (round-trip format; NaN before any).</summary>
        public const string EarlyStoppingBest = "early_stopping.best";

        /// <summary>The epoch of that value (0 before any).</summary>
        public const string EarlyStoppingBestEpoch = "early_stopping.best_epoch";

        /// <summary><see cref="BestModel"/>'s monitor and mode (<c>Accuracy Auto</c>); absent without it.</summary>
        public const string BestModel = "best_model";

        /// <summary>The best value <see cref="BestModel"/> has seen (round-trip format; NaN before any).</summary>
        public const string BestModelBest = "best_model.best";

        /// <summary>The epoch of that value, whose network the <c>best_model.*</c> tensors hold unless it is <see cref="Epoch"/>.</summary>
        public const string BestModelBestEpoch = "best_model.best_epoch";
    }

    /// <summary>
    /// Writes the checkpoint of epoch <paramref name="epoch"/> after step <paramref name="step"/>, atomically (a temporary
    /// file renamed over <paramref name="path"/>). The best network is read back from <paramref name="bestPath"/>.
    /// </summary>
    public void Write(string path, int epoch, long step, MetricWatch early, MetricWatch best, string? bestPath)
    {
        Layouts layouts = LayoutsAt(epoch, best.BestEpoch);
        float[] floats = layouts.Floats;
        long[] longs = layouts.Longs;
        _network.Buffers.AsSpan().CopyTo(floats);
        _network.Counters.AsSpan().CopyTo(longs);
        if (_stateful is not null)
        {
            _stateful.SaveState(floats.AsSpan(_buffers, _optimizerFloats));
            longs[_counters] = _stateful.StepCount;
        }

        if (layouts.WithBest)
        {
            // The best epoch's network, as BestModel kept it: parameters and buffers after the optimizer's, counters after its step.
            SafeTensors.Load(bestPath!,
                floats.AsSpan(_buffers + _optimizerFloats, _parameters), _parameterLayout,
                floats.AsSpan(_buffers + _optimizerFloats + _parameters, _buffers), _bufferLayout,
                longs.AsSpan(_counters + _optimizerLongs, _counters), _counterLayout);
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [Keys.Format] = FormatVersion,
            [Keys.Epoch] = Text(epoch),
            [Keys.Step] = Text(step),
            [Keys.Seed] = Text(_options.Seed),
            [Keys.BatchSize] = Text(_options.BatchSize),
            [Keys.Samples] = Text(_samples),
            [Keys.LearningRate] = _optimizer.LearningRate.ToString("R", CultureInfo.InvariantCulture),
            [SafeTensors.TrainingStateKey] = layouts.TrainingStateNames,
        };
        if (_stateful is not null)
        {
            metadata[Keys.Optimizer] = _stateful.Kind;
        }

        if (_network.Dropout is DropoutState dropout)
        {
            metadata[Keys.DropoutSeed] = Text(dropout.Seed);
            metadata[Keys.DropoutStep] = Text(dropout.Step);
        }

        if (_options.EarlyStopping is EarlyStopping stopping)
        {
            metadata[Keys.EarlyStopping] = Describe(stopping);
            metadata[Keys.EarlyStoppingBest] = early.Best.ToString("R", CultureInfo.InvariantCulture);
            metadata[Keys.EarlyStoppingBestEpoch] = Text(early.BestEpoch);
        }

        if (_options.BestModel is BestModel keep)
        {
            metadata[Keys.BestModel] = Describe(keep);
            metadata[Keys.BestModelBest] = best.Best.ToString("R", CultureInfo.InvariantCulture);
            metadata[Keys.BestModelBestEpoch] = Text(best.BestEpoch);
        }

        SafeTensors.Save(path, _network.Parameters, _parameterLayout, floats, layouts.FloatLayout, longs, layouts.LongLayout, metadata);
    }

    /// <summary>
    /// Reads and checks the checkpoint at <paramref name="path"/> against the network, the optimizer and the options,
    /// changing nothing: a file that is not a training checkpoint, is corrupt or truncated, or was written for another
    /// network, optimizer kind, seed, batch size, training set or monitor throws <see cref="InvalidDataException"/>
    /// naming what was expected.
    /// </summary>
    public ResumePoint Read(string path)
    {
        IReadOnlyDictionary<string, string> metadata = SafeTensors.ReadMetadata(path);
        var reader = new MetadataReader(path, metadata);
        if (!metadata.TryGetValue(Keys.Format, out string? format))
        {
            throw reader.Error($"not a training checkpoint: its metadata has no {Keys.Format} (a network's Save writes weights only; resume from a file that TrainerOptions.Checkpoint wrote)");
        }

        if (format != FormatVersion)
        {
            throw reader.Error($"{Keys.Format} is '{format}', version {FormatVersion} expected");
        }

        int epoch = reader.Int(Keys.Epoch);
        long step = reader.Long(Keys.Step);
        reader.Expect(Keys.Seed, Text(_options.Seed), "options.Seed");
        reader.Expect(Keys.BatchSize, Text(_options.BatchSize), "options.BatchSize");
        reader.Expect(Keys.Samples, Text(_samples), "the training set's sample count");
        float learningRate = reader.Float(Keys.LearningRate);
        if (epoch < 1 || step < 0 || !(learningRate >= 0f) || float.IsInfinity(learningRate))
        {
            throw reader.Error(string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch}, step {step} and learning rate {learningRate} are out of range (epoch ≥ 1, step ≥ 0, a finite rate ≥ 0 expected)"));
        }

        if (epoch >= _options.Epochs)
        {
            throw reader.Error(string.Create(CultureInfo.InvariantCulture,
                $"the checkpoint is at epoch {epoch} and options.Epochs is {_options.Epochs}: nothing is left to train (Epochs counts the whole run, the checkpoint's epochs included)"));
        }

        reader.Expect(Keys.Optimizer, _stateful?.Kind, "the optimizer's kind");
        DropoutState? dropout = null;
        if (_network.Dropout is not null)
        {
            dropout = new DropoutState(reader.Int(Keys.DropoutSeed), reader.Long(Keys.DropoutStep));
        }
        else if (metadata.ContainsKey(Keys.DropoutSeed) || metadata.ContainsKey(Keys.DropoutStep))
        {
            throw reader.Error("written for a network with Dropout layers; this network has none");
        }

        (double Best, int Epoch) early = default, best = default;
        if (_options.EarlyStopping is EarlyStopping stopping)
        {
            reader.Expect(Keys.EarlyStopping, Describe(stopping), "options.EarlyStopping's monitor, mode and minimum change");
            early = (reader.Double(Keys.EarlyStoppingBest), reader.Int(Keys.EarlyStoppingBestEpoch));
            reader.CheckBestEpoch(Keys.EarlyStoppingBestEpoch, early.Epoch, epoch);
        }

        if (_options.BestModel is BestModel keep)
        {
            reader.Expect(Keys.BestModel, Describe(keep), "options.BestModel's monitor and mode");
            best = (reader.Double(Keys.BestModelBest), reader.Int(Keys.BestModelBestEpoch));
            reader.CheckBestEpoch(Keys.BestModelBestEpoch, best.Epoch, epoch);
        }

        // Every tensor, strictly: another network's names or shapes, a missing optimizer vector, a truncated file all fail here.
        Layouts layouts = LayoutsAt(epoch, best.Epoch);
        var parameters = new float[_parameters];
        var floats = new float[layouts.Floats.Length];
        var longs = new long[layouts.Longs.Length];
        SafeTensors.Load(path, parameters, _parameterLayout, floats, layouts.FloatLayout, longs, layouts.LongLayout);
        long optimizerSteps = _stateful is null ? 0 : longs[_counters];
        if (optimizerSteps < 0)
        {
            throw reader.Error(string.Create(CultureInfo.InvariantCulture, $"{OptimizerStep} is {optimizerSteps}, a count ≥ 0 expected"));
        }

        if (_optimizer is Sgd { WeightDecayMask: { } sgdMask })
        {
            WeightDecayMask.CheckLength(sgdMask, _parameters, "optimizer");
        }
        else if (_optimizer is Adam { WeightDecayMask: { } adamMask })
        {
            WeightDecayMask.CheckLength(adamMask, _parameters, "optimizer");
        }

        return new ResumePoint(this, epoch, step, learningRate, dropout, early, best, layouts.WithBest, parameters, floats, longs, optimizerSteps);
    }

    /// <summary>
    /// The tensors of the checkpoint of epoch <paramref name="epoch"/>: with the best network's (<c>best_model.*</c>) when
    /// <see cref="BestModel"/> has kept an epoch's network and that epoch is an earlier one.
    /// </summary>
    private Layouts LayoutsAt(int epoch, int bestEpoch) =>
        _withBest is not null && bestEpoch > 0 && bestEpoch != epoch ? _withBest : _plain;

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Describe(EarlyStopping stopping) =>
        string.Create(CultureInfo.InvariantCulture, $"{stopping.Monitor} {stopping.Mode} {stopping.MinDelta:R}");

    private static string Describe(BestModel keep) => $"{keep.Monitor} {keep.Mode}";

    /// <summary>A checkpoint read and checked, applied by <see cref="Apply"/> only.</summary>
    internal sealed class ResumePoint(
        TrainingCheckpoint owner, int epoch, long step, float learningRate, DropoutState? dropout,
        (double Best, int Epoch) early, (double Best, int Epoch) best, bool withBest,
        float[] parameters, float[] floats, long[] longs, long optimizerSteps)
    {
        /// <summary>The epochs the checkpoint completed.</summary>
        public int Epoch => epoch;

        /// <summary>The optimizer steps the run had taken.</summary>
        public long Step => step;

        /// <summary>
        /// Puts the checkpoint's state into the optimizer (which checks it before changing), the network and the watches,
        /// and writes the best network so far to <paramref name="bestPath"/>.
        /// </summary>
        public void Apply(MetricWatch earlyWatch, MetricWatch bestWatch, string? bestPath)
        {
            TrainingCheckpoint o = owner;
            o._stateful?.RestoreState(o._parameters, floats.AsSpan(o._buffers, o._optimizerFloats), optimizerSteps);
            o._optimizer.LearningRate = learningRate;
            parameters.CopyTo(o._network.Parameters, 0);
            floats.AsSpan(0, o._buffers).CopyTo(o._network.Buffers);
            longs.AsSpan(0, o._counters).CopyTo(o._network.Counters);
            o._network.Dropout = dropout;
            earlyWatch.Restore(early.Best, early.Epoch);
            bestWatch.Restore(best.Best, best.Epoch);
            if (withBest)
            {
                int offset = o._buffers + o._optimizerFloats;
                SafeTensors.Save(bestPath!,
                    floats.AsSpan(offset, o._parameters), o._parameterLayout,
                    floats.AsSpan(offset + o._parameters, o._buffers), o._bufferLayout,
                    longs.AsSpan(o._counters + o._optimizerLongs, o._counters), o._counterLayout);
            }
            else if (bestPath is not null && best.Epoch == epoch)
            {
                o._network.Save(bestPath);
            }
        }
    }

    /// <summary>
    /// The float and long vectors written beside the parameters, and their layouts: the network's buffers, the optimizer's
    /// vectors, and (with the best network) its parameters and buffers; the network's counters, the optimizer's step, and
    /// the best network's counters.
    /// </summary>
    private sealed class Layouts
    {
        public Layouts(TrainingCheckpoint c, bool withBest)
        {
            var floatLayout = new List<TensorSlot>(c._bufferLayout);
            var longLayout = new List<TensorSlot>(c._counterLayout);
            var state = new List<string>();
            int floats = c._buffers, longs = c._counters;
            if (c._stateful is not null)
            {
                foreach (string name in c._stateful.StateNames)
                {
                    floatLayout.Add(new TensorSlot(OptimizerPrefix + name, [c._parameters], floats));
                    state.Add(OptimizerPrefix + name);
                    floats += c._parameters;
                }

                longLayout.Add(new TensorSlot(OptimizerStep, [], longs));
                state.Add(OptimizerStep);
                longs++;
            }

            if (withBest)
            {
                floats = AddCopies(floatLayout, state, c._parameterLayout, floats, c._parameters);
                floats = AddCopies(floatLayout, state, c._bufferLayout, floats, c._buffers);
                longs = AddCopies(longLayout, state, c._counterLayout, longs, c._counters);
            }

            FloatLayout = [.. floatLayout];
            LongLayout = [.. longLayout];
            WithBest = withBest;
            Floats = new float[floats];
            Longs = new long[longs];
            TrainingStateNames = string.Join(',', state);
        }

        /// <summary>Whether the best network's tensors follow the state's.</summary>
        public bool WithBest { get; }

        public TensorSlot[] FloatLayout { get; }

        public TensorSlot[] LongLayout { get; }

        public float[] Floats { get; }

        public long[] Longs { get; }

        public string TrainingStateNames { get; }

        private static int AddCopies(List<TensorSlot> layout, List<string> state, TensorSlot[] source, int offset, int length)
        {
            foreach (TensorSlot slot in source)
            {
                layout.Add(new TensorSlot(BestPrefix + slot.Name, slot.Shape, offset + slot.Offset));
                state.Add(BestPrefix + slot.Name);
            }

            return offset + length;
        }
    }

    /// <summary>Reads typed metadata values, each error naming the file and the key.</summary>
    private readonly struct MetadataReader(string path, IReadOnlyDictionary<string, string> metadata)
    {
        public InvalidDataException Error(string what) => new($"{path}: {what}.");

        public string Get(string key) =>
            metadata.TryGetValue(key, out string? value) ? value : throw Error($"the metadata has no {key}");

        public int Int(string key) =>
            int.TryParse(Get(key), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) ? value
                : throw Error($"{key} is '{Get(key)}', an integer expected");

        public long Long(string key) =>
            long.TryParse(Get(key), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) ? value
                : throw Error($"{key} is '{Get(key)}', an integer expected");

        public float Float(string key) =>
            float.TryParse(Get(key), NumberStyles.Float, CultureInfo.InvariantCulture, out float value) ? value
                : throw Error($"{key} is '{Get(key)}', a number expected");

        public double Double(string key) =>
            double.TryParse(Get(key), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value
                : throw Error($"{key} is '{Get(key)}', a number expected");

        /// <summary>Checks that <paramref name="key"/> holds <paramref name="expected"/> (null: that it is absent).</summary>
        public void Expect(string key, string? expected, string what)
        {
            metadata.TryGetValue(key, out string? actual);
            if (actual != expected)
            {
                throw Error($"written with {key} = {Show(actual)}; {what} is {Show(expected)}, and a resumed run must match the run it continues");
            }
        }

        public void CheckBestEpoch(string key, int bestEpoch, int epoch)
        {
            if (bestEpoch < 0 || bestEpoch > epoch)
            {
                throw Error(string.Create(CultureInfo.InvariantCulture, $"{key} is {bestEpoch}, from 0 to the epoch {epoch} expected"));
            }
        }

        private static string Show(string? value) => value is null ? "(none)" : $"'{value}'";
    }
}
