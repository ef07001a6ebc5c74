using System;
using System.Collections.Generic;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace NetGen.Optimizers;

/// <summary>
/// Adam (Kingma &amp; Ba) and AdamW (Loshchilov &amp; Hutter), with exactly the update of PyTorch's
/// <c>torch.optim.Adam</c> / <c>torch.optim.AdamW</c> (amsgrad off). At step t = 1, 2, …:
/// <code>
/// Adam:  g = ∇θ + weightDecay·θ              AdamW:  g = ∇θ;  θ = θ·(1 − learningRate·weightDecay)
/// m = β1·m + (1 − β1)·g
/// v = β2·v + (1 − β2)·g²
/// θ = θ − (learningRate / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
/// </code>
/// Weight decay, of either kind, applies to every parameter, or to those <see cref="WeightDecayMask"/> selects (PyTorch's
/// parameter groups with <c>weight_decay=0</c> for the others).
/// </summary>
public sealed class Adam : IStatefulOptimizer, IBlockStep
{
    private static readonly string[] s_stateNames = ["exp_avg", "exp_avg_sq"];

    private float _learningRate;
    private float[]? _m;
    private float[]? _v;
    private int _length = -1;
    private WeightDecayMask? _weightDecayMask;
    private readonly ParameterSweep _sweep;

    // The step being taken, for StepBlock on whichever thread runs a block: its scalars.
    private float _stepSize;
    private float _biasCorrection2Sqrt;

    /// <summary>Creates the optimizer; state buffers are allocated on the first <see cref="Step"/>.</summary>
    /// <param name="learningRate">Step size (finite, ≥ 0).</param>
    /// <param name="beta1">Decay of the first-moment estimate, in [0, 1).</param>
    /// <param name="beta2">Decay of the second-moment estimate, in [0, 1).</param>
    /// <param name="epsilon">Added to the denominator for stability (finite, ≥ 0).</param>
    /// <param name="weightDecay">Weight-decay factor (finite, ≥ 0).</param>
    /// <param name="decoupledWeightDecay">
    /// false: L2 penalty added to the gradient (Adam); true: parameters shrunk by learningRate·weightDecay
    /// before the update, separately from the moments (AdamW).
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range, infinite or NaN.</exception>
    public Adam(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f,
        float weightDecay = 0f, bool decoupledWeightDecay = false)
    {
        _sweep = new ParameterSweep(this);
        _learningRate = OptimizerGuard.NonNegative(learningRate, nameof(learningRate));
        Beta1 = OptimizerGuard.InUnitInterval(beta1, nameof(beta1));
        Beta2 = OptimizerGuard.InUnitInterval(beta2, nameof(beta2));
        Epsilon = OptimizerGuard.NonNegative(epsilon, nameof(epsilon));
        WeightDecay = OptimizerGuard.NonNegative(weightDecay, nameof(weightDecay));
        DecoupledWeightDecay = decoupledWeightDecay;
    }

    /// <summary>
    /// AdamW: Adam with decoupled weight decay, with PyTorch's <c>torch.optim.AdamW</c> defaults
    /// (weight decay 0.01).
    /// </summary>
    /// <param name="learningRate">Step size (finite, ≥ 0).</param>
    /// <param name="beta1">Decay of the first-moment estimate, in [0, 1).</param>
    /// <param name="beta2">Decay of the second-moment estimate, in [0, 1).</param>
    /// <param name="epsilon">Added to the denominator for stability (finite, ≥ 0).</param>
    /// <param name="weightDecay">Decoupled weight-decay factor (finite, ≥ 0).</param>
    /// <returns>An <see cref="Adam"/> with <see cref="DecoupledWeightDecay"/> set.</returns>
    public static Adam AdamW(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f,
        float weightDecay = 1e-2f) =>
        new(learningRate, beta1, beta2, epsilon, weightDecay, decoupledWeightDecay: true);

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, infinite or NaN.</exception>
    public float LearningRate
    {
        get => _learningRate;
        set => _learningRate = OptimizerGuard.NonNegative(value, nameof(value));
    }

    /// <summary>Decay of the first-moment estimate.</summary>
    public float Beta1 { get; }

    /// <summary>Decay of the second-moment estimate.</summary>
    public float Beta2 { get; }

    /// <summary>Added to the denominator for stability.</summary>
    public float Epsilon { get; }

    /// <summary>The weight-decay factor.</summary>
    public float WeightDecay { get; }

    /// <summary>
    /// Which parameters <see cref="WeightDecay"/> applies to; null (the default) for all of them, as one PyTorch parameter
    /// group. <see cref="Optimizers.WeightDecayMask.MatricesAndKernels"/> of the network's <see cref="INeuralNetwork.ParameterLayout"/>
    /// leaves biases and BatchNorm's γ and β undecayed, as PyTorch recipes do. <see cref="Reset"/> keeps it.
    /// </summary>
    /// <exception cref="ArgumentException">Set after a step to a mask of another parameter count than the steps'.</exception>
    public WeightDecayMask? WeightDecayMask
    {
        get => _weightDecayMask;
        set
        {
            if (_length >= 0)
            {
                Optimizers.WeightDecayMask.CheckLength(value, _length, nameof(value));
            }

            _weightDecayMask = value;
        }
    }

    /// <summary>Whether weight decay is decoupled (AdamW) rather than an L2 term in the gradient (Adam).</summary>
    public bool DecoupledWeightDecay { get; }

    /// <summary>Number of steps taken (t).</summary>
    public long StepCount { get; private set; }

    /// <inheritdoc/>
    /// <value><c>Adam</c>, or <c>AdamW</c> with <see cref="DecoupledWeightDecay"/>.</value>
    public string Kind => DecoupledWeightDecay ? "AdamW" : "Adam";

    /// <inheritdoc/>
    public int ParameterCount => _length;

    /// <inheritdoc/>
    /// <value><c>exp_avg</c> (m) and <c>exp_avg_sq</c> (v).</value>
    public IReadOnlyList<string> StateNames => s_stateNames;

    /// <inheritdoc/>
    public void SaveState(Span<float> destination)
    {
        OptimizerState.CheckLength(destination.Length, 2, _length, nameof(destination));
        if (_length < 0)
        {
            destination.Clear();
            return;
        }

        _m.AsSpan().CopyTo(destination);
        _v.AsSpan().CopyTo(destination[_length..]);
    }

    /// <inheritdoc/>
    public void RestoreState(int parameterCount, ReadOnlySpan<float> state, long stepCount)
    {
        OptimizerState.CheckRestore(parameterCount, state, 2, stepCount, _weightDecayMask);
        _length = parameterCount;
        _m = state[..parameterCount].ToArray();
        _v = state[parameterCount..].ToArray();
        StepCount = stepCount;
    }

    /// <summary>The first-moment estimate m (empty before the first step).</summary>
    public ReadOnlySpan<float> FirstMoment => _m;

    /// <summary>The second-moment estimate v (empty before the first step).</summary>
    public ReadOnlySpan<float> SecondMoment => _v;

    /// <inheritdoc cref="Sgd.DegreeOfParallelism"/>
    public int DegreeOfParallelism
    {
        get => _sweep.DegreeOfParallelism;
        set => _sweep.DegreeOfParallelism = value;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The update runs block by block (<see cref="ParameterSweep"/>): each block of parameters goes through all ten passes
    /// of the update while it is in the L1 cache, rather than the whole vector streaming through memory ten times.
    /// </remarks>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        OptimizerGuard.CheckLengths(parameters.Length, gradients.Length, _length);
        Optimizers.WeightDecayMask.CheckLength(_weightDecayMask, parameters.Length, nameof(parameters));
        if (_length < 0)
        {
            _length = parameters.Length;
            _m = new float[_length];
            _v = new float[_length];
        }

        StepCount++;

        // Bias corrections in double, as PyTorch computes them on Python floats.
        double biasCorrection1 = 1.0 - Math.Pow(Beta1, StepCount);
        double biasCorrection2 = 1.0 - Math.Pow(Beta2, StepCount);
        _stepSize = (float)(_learningRate / biasCorrection1);
        _biasCorrection2Sqrt = (float)Math.Sqrt(biasCorrection2);
        _sweep.Run(parameters, gradients);
    }

    /// <summary>The update of the block of <paramref name="parameters"/> from parameter <paramref name="start"/> (see the class summary).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called once per block: compiled optimized from the first step
    void IBlockStep.StepBlock(int start, Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> scratch)
    {
        int length = parameters.Length;
        Span<float> m = _m.AsSpan(start, length);
        Span<float> v = _v.AsSpan(start, length);
        ReadOnlySpan<float> g = gradients;
        if (WeightDecay != 0f)
        {
            if (DecoupledWeightDecay)
            {
                Optimizers.WeightDecayMask.Scale(_weightDecayMask, parameters, 1f - _learningRate * WeightDecay, start); // θ = θ·(1 − lr·wd) where decayed
            }
            else
            {
                Optimizers.WeightDecayMask.AddL2(_weightDecayMask, parameters, gradients, WeightDecay, scratch, start); // g = ∇ + wd·θ where decayed
                g = scratch;
            }
        }

        // m = β1·m + (1 − β1)·g
        TensorPrimitives.Multiply(m, Beta1, m);
        TensorPrimitives.MultiplyAdd(g, 1f - Beta1, m, m);

        // v = β2·v + (1 − β2)·g²  (scratch may hold g: squared in place, g is not needed afterwards)
        TensorPrimitives.Multiply(g, g, scratch);
        TensorPrimitives.Multiply(v, Beta2, v);
        TensorPrimitives.MultiplyAdd(scratch, 1f - Beta2, v, v);

        // denominator = √v / √(1 − β2ᵗ) + ε;  θ = θ − stepSize·m / denominator
        TensorPrimitives.Sqrt(v, scratch);
        TensorPrimitives.Divide(scratch, _biasCorrection2Sqrt, scratch);
        TensorPrimitives.Add(scratch, Epsilon, scratch);
        TensorPrimitives.Divide(m, scratch, scratch);
        TensorPrimitives.MultiplyAdd(scratch, -_stepSize, parameters, parameters);
    }

    /// <summary>Forgets all state (step count, momentum, moments and the parameter length), as a new optimizer.</summary>
    public void Reset()
    {
        _length = -1;
        _m = null;
        _v = null;
        StepCount = 0;
    }
}
