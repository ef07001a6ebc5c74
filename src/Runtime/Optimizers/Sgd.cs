using System;
using System.Collections.Generic;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace NetGen.Optimizers;

/// <summary>
/// Stochastic gradient descent with optional momentum, Nesterov momentum and (L2) weight decay, with exactly
/// the update of PyTorch's <c>torch.optim.SGD</c> (dampening 0):
/// <code>
/// g = ∇θ + weightDecay·θ
/// if momentum ≠ 0:  b = momentum·b + g   (on the first step b = g)
///                   g = nesterov ? g + momentum·b : b
/// θ = θ − learningRate·g
/// </code>
/// Weight decay applies to every parameter, or to those <see cref="WeightDecayMask"/> selects (PyTorch's parameter groups
/// with <c>weight_decay=0</c> for the others).
/// </summary>
public sealed class Sgd : IStatefulOptimizer, IBlockStep
{
    private static readonly string[] s_momentumState = ["momentum_buffer"];

    private float _learningRate;
    private float[]? _momentumBuffer;
    private int _length = -1;
    private WeightDecayMask? _weightDecayMask;
    private bool _hasMomentumBuffer;
    private readonly ParameterSweep _sweep;


    /// <summary>Creates the optimizer; state buffers are allocated on the first <see cref="Step"/>.</summary>
    /// <param name="learningRate">Step size (finite, ≥ 0).</param>
    /// <param name="momentum">Momentum factor μ (finite, ≥ 0); 0 for plain SGD.</param>
    /// <param name="nesterov">Use Nesterov momentum (needs <paramref name="momentum"/> &gt; 0).</param>
    /// <param name="weightDecay">L2 penalty factor added to the gradient (finite, ≥ 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is negative, infinite or NaN.</exception>
    /// <exception cref="ArgumentException"><paramref name="nesterov"/> without momentum.</exception>
    public Sgd(float learningRate, float momentum = 0f, bool nesterov = false, float weightDecay = 0f)
    {
        _sweep = new ParameterSweep(this);
        _learningRate = OptimizerGuard.NonNegative(learningRate, nameof(learningRate));
        Momentum = OptimizerGuard.NonNegative(momentum, nameof(momentum));
        WeightDecay = OptimizerGuard.NonNegative(weightDecay, nameof(weightDecay));
        if (nesterov && momentum == 0f)
        {
            throw new ArgumentException("Nesterov momentum requires a momentum above 0.", nameof(nesterov));
        }

        Nesterov = nesterov;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, infinite or NaN.</exception>
    public float LearningRate
    {
        get => _learningRate;
        set => _learningRate = OptimizerGuard.NonNegative(value, nameof(value));
    }

    /// <summary>The momentum factor μ.</summary>
    public float Momentum { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <summary>The L2 weight-decay factor.</summary>
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

    /// <summary>The momentum buffer b (empty before the first step or without momentum).</summary>
    public ReadOnlySpan<float> MomentumBuffer => _hasMomentumBuffer ? _momentumBuffer : default;

    /// <inheritdoc/>
    /// <value><c>SGD</c>.</value>
    public string Kind => "SGD";

    /// <inheritdoc/>
    public long StepCount { get; private set; }

    /// <inheritdoc/>
    public int ParameterCount => _length;

    /// <inheritdoc/>
    /// <value><c>momentum_buffer</c> with momentum, none without.</value>
    public IReadOnlyList<string> StateNames => Momentum != 0f ? s_momentumState : [];

    /// <inheritdoc/>
    public void SaveState(Span<float> destination)
    {
        OptimizerState.CheckLength(destination.Length, StateNames.Count, _length, nameof(destination));
        if (_hasMomentumBuffer)
        {
            _momentumBuffer.AsSpan().CopyTo(destination);
        }
        else
        {
            destination.Clear();
        }
    }

    /// <inheritdoc/>
    public void RestoreState(int parameterCount, ReadOnlySpan<float> state, long stepCount)
    {
        OptimizerState.CheckRestore(parameterCount, state, StateNames.Count, stepCount, _weightDecayMask);
        _length = parameterCount;
        _momentumBuffer = Momentum != 0f ? state.ToArray() : null;
        _hasMomentumBuffer = Momentum != 0f && stepCount > 0;
        StepCount = stepCount;
    }

    /// <summary>
    /// Threads <see cref="Step"/> may use, the calling thread included. Default: <see cref="Environment.ProcessorCount"/>.
    /// A step uses more than one only for a vector of at least 2 × 131,072 parameters, in one contiguous part per thread;
    /// every parameter is updated by the same operations in the same order whatever the value, so the results are the same
    /// bits.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int DegreeOfParallelism
    {
        get => _sweep.DegreeOfParallelism;
        set => _sweep.DegreeOfParallelism = value;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The update runs block by block (<see cref="ParameterSweep"/>): each block of parameters goes through every pass of the
    /// update while it is in the L1 cache.
    /// </remarks>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients)
    {
        OptimizerGuard.CheckLengths(parameters.Length, gradients.Length, _length);
        Optimizers.WeightDecayMask.CheckLength(_weightDecayMask, parameters.Length, nameof(parameters));
        if (_length < 0)
        {
            _length = parameters.Length;
            _momentumBuffer = Momentum != 0f ? new float[_length] : null;
        }

        _sweep.Run(parameters, gradients);

        _hasMomentumBuffer = Momentum != 0f;
        StepCount++;
    }

    /// <summary>The update of the block of <paramref name="parameters"/> from parameter <paramref name="start"/> (see the class summary).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called once per block: compiled optimized from the first step
    void IBlockStep.StepBlock(int start, Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> scratch)
    {
        int length = parameters.Length;
        ReadOnlySpan<float> g = gradients;
        if (WeightDecay != 0f)
        {
            Optimizers.WeightDecayMask.AddL2(_weightDecayMask, parameters, gradients, WeightDecay, scratch, start); // g = ∇ + wd·θ where decayed
            g = scratch;
        }

        if (Momentum != 0f)
        {
            Span<float> buffer = _momentumBuffer.AsSpan(start, length);
            if (_hasMomentumBuffer)
            {
                TensorPrimitives.MultiplyAdd(buffer, Momentum, g, buffer); // b = μ·b + g
            }
            else
            {
                g.CopyTo(buffer); // the first step: b = g
            }

            if (Nesterov)
            {
                TensorPrimitives.MultiplyAdd(buffer, Momentum, g, scratch); // g = g + μ·b
                g = scratch;
            }
            else
            {
                g = buffer;
            }
        }

        TensorPrimitives.MultiplyAdd(g, -_learningRate, parameters, parameters); // θ = θ − lr·g
    }

    /// <summary>Forgets all state (step count, momentum, moments and the parameter length), as a new optimizer.</summary>
    public void Reset()
    {
        _length = -1;
        _momentumBuffer = null;
        _hasMomentumBuffer = false;
        StepCount = 0;
    }
}
