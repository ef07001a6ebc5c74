using System;
using System.Numerics.Tensors;

namespace NetGen.Benchmarks.RuntimeShaped;

// The "runtime-shaped" baseline: the SAME algorithm as NetGen's generated code (im2col unfold + one
// TensorPrimitives.MultiplyAdd per (filter, row); max pooling that records the arg-max; dense layers through
// TensorPrimitives.Dot / MultiplyAdd; softmax by the same TensorPrimitives calls), but with every shape held in
// int fields and every offset and loop bound computed at run time, the way a hand-written layer library works.
// The difference between it and the generated code is what compile-time specialization buys.

/// <summary>A layer with its input and output shapes (CHW) as run-time ints.</summary>
public abstract class Layer
{
    protected Layer(int inChannels, int inHeight, int inWidth, int outChannels, int outHeight, int outWidth)
    {
        InChannels = inChannels;
        InHeight = inHeight;
        InWidth = inWidth;
        OutChannels = outChannels;
        OutHeight = outHeight;
        OutWidth = outWidth;
    }

    public int InChannels { get; }
    public int InHeight { get; }
    public int InWidth { get; }
    public int OutChannels { get; }
    public int OutHeight { get; }
    public int OutWidth { get; }
    public int InLength => InChannels * InHeight * InWidth;
    public int OutLength => OutChannels * OutHeight * OutWidth;

    /// <summary>Trainable parameters of this layer (weight then bias).</summary>
    public virtual int ParameterCount => 0;

    /// <summary>Multiply-adds of one forward pass of one sample.</summary>
    public virtual long MultiplyAdds => 0;

    /// <summary>He-uniform fan-in of the weight (0 when there is no weight).</summary>
    public virtual int FanIn => 0;

    /// <summary>Weights in the parameter slice (the rest is bias).</summary>
    public virtual int WeightCount => 0;

    /// <summary>y = layer(x); <paramref name="parameters"/> is this layer's slice.</summary>
    public abstract void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, Span<float> y);

    /// <summary>Adds dL/dθ into <paramref name="gradients"/> (this layer's slice) and writes dL/dx.</summary>
    public abstract void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, ReadOnlySpan<float> parameters, Span<float> gradients, Span<float> dx);
}

/// <summary>2-D cross-correlation as PyTorch's Conv2d, by im2col and one multiply-add per (filter, row).</summary>
public sealed class Conv2D : Layer
{
    private readonly int _filters, _kernelHeight, _kernelWidth, _stride, _padding;
    private readonly float[] _columns, _columnsGradient;

    public Conv2D(int inChannels, int inHeight, int inWidth, int filters, int kernelSize, int stride = 1, int padding = 0)
        : base(inChannels, inHeight, inWidth, filters,
               (inHeight + 2 * padding - kernelSize) / stride + 1, (inWidth + 2 * padding - kernelSize) / stride + 1)
    {
        _filters = filters;
        _kernelHeight = kernelSize;
        _kernelWidth = kernelSize;
        _stride = stride;
        _padding = padding;
        // Rows (input channel, kernel tap) × columns (output pixel). Taps that read padding are never written and
        // stay zero, exactly as in the generated code.
        _columns = new float[Rows * Pixels];
        _columnsGradient = new float[Rows * Pixels];
    }

    private int Rows => InChannels * _kernelHeight * _kernelWidth;
    private int Pixels => OutHeight * OutWidth;
    public override int WeightCount => _filters * Rows;
    public override int ParameterCount => WeightCount + _filters;
    public override int FanIn => Rows;
    public override long MultiplyAdds => (long)_filters * Rows * Pixels;

    public override void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, Span<float> y)
    {
        int rows = Rows, pixels = Pixels;
        ReadOnlySpan<float> weight = parameters.Slice(0, WeightCount);
        ReadOnlySpan<float> bias = parameters.Slice(WeightCount, _filters);
        Span<float> columns = _columns;
        Unfold(x, columns);
        for (int k = 0; k < _filters; k++)
        {
            Span<float> yk = y.Slice(k * pixels, pixels);
            ReadOnlySpan<float> wk = weight.Slice(k * rows, rows);
            yk.Fill(bias[k]);
            for (int r = 0; r < rows; r++)
            {
                TensorPrimitives.MultiplyAdd(columns.Slice(r * pixels, pixels), wk[r], yk, yk);
            }
        }
    }

    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, ReadOnlySpan<float> parameters, Span<float> gradients, Span<float> dx)
    {
        int rows = Rows, pixels = Pixels;
        ReadOnlySpan<float> weight = parameters.Slice(0, WeightCount);
        Span<float> weightGradient = gradients.Slice(0, WeightCount);
        Span<float> biasGradient = gradients.Slice(WeightCount, _filters);
        ReadOnlySpan<float> columns = _columns;
        Span<float> columnsGradient = _columnsGradient;
        columnsGradient.Clear();
        for (int k = 0; k < _filters; k++)
        {
            ReadOnlySpan<float> dyk = dy.Slice(k * pixels, pixels);
            ReadOnlySpan<float> wk = weight.Slice(k * rows, rows);
            Span<float> dwk = weightGradient.Slice(k * rows, rows);
            biasGradient[k] += TensorPrimitives.Sum(dyk);
            for (int r = 0; r < rows; r++)
            {
                Span<float> dcr = columnsGradient.Slice(r * pixels, pixels);
                dwk[r] += TensorPrimitives.Dot(dyk, columns.Slice(r * pixels, pixels));
                TensorPrimitives.MultiplyAdd(dyk, wk[r], dcr, dcr);
            }
        }

        dx.Clear();
        Fold(columnsGradient, dx);
    }

    /// <summary>im2col: columns(r, q) = x(t, i·s + m − p, j·s + n − p), r = (t·kh + m)·kw + n, q = i·outW + j.</summary>
    private void Unfold(ReadOnlySpan<float> x, Span<float> columns)
    {
        int plane = InHeight * InWidth, pixels = Pixels, block = _kernelHeight * _kernelWidth * pixels;
        for (int t = 0; t < InChannels; t++)
        {
            ReadOnlySpan<float> xt = x.Slice(t * plane, plane);
            Span<float> ct = columns.Slice(t * block, block);
            for (int m = 0; m < _kernelHeight; m++)
            {
                for (int n = 0; n < _kernelWidth; n++)
                {
                    (int i0, int i1) = ValidRange(m, InHeight, OutHeight);
                    (int j0, int j1) = ValidRange(n, InWidth, OutWidth);
                    if (i0 >= i1 || j0 >= j1)
                    {
                        continue;
                    }

                    int rowBase = (m * _kernelWidth + n) * pixels;
                    int sourceBase = (m - _padding) * InWidth + (n - _padding);
                    int count = j1 - j0;
                    for (int i = i0; i < i1; i++)
                    {
                        if (_stride == 1)
                        {
                            xt.Slice(i * InWidth + sourceBase + j0, count).CopyTo(ct.Slice(i * OutWidth + rowBase + j0, count));
                        }
                        else
                        {
                            for (int j = j0; j < j1; j++)
                            {
                                ct[i * OutWidth + j + rowBase] = xt[i * _stride * InWidth + j * _stride + sourceBase];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>col2im, the transpose of <see cref="Unfold"/>: dx(t, i·s + m − p, j·s + n − p) += dcolumns(r, q).</summary>
    private void Fold(ReadOnlySpan<float> columnsGradient, Span<float> dx)
    {
        int plane = InHeight * InWidth, pixels = Pixels, block = _kernelHeight * _kernelWidth * pixels;
        for (int t = 0; t < InChannels; t++)
        {
            Span<float> dxt = dx.Slice(t * plane, plane);
            ReadOnlySpan<float> ct = columnsGradient.Slice(t * block, block);
            for (int m = 0; m < _kernelHeight; m++)
            {
                for (int n = 0; n < _kernelWidth; n++)
                {
                    (int i0, int i1) = ValidRange(m, InHeight, OutHeight);
                    (int j0, int j1) = ValidRange(n, InWidth, OutWidth);
                    if (i0 >= i1 || j0 >= j1)
                    {
                        continue;
                    }

                    int rowBase = (m * _kernelWidth + n) * pixels;
                    int sourceBase = (m - _padding) * InWidth + (n - _padding);
                    int count = j1 - j0;
                    for (int i = i0; i < i1; i++)
                    {
                        if (_stride == 1)
                        {
                            Span<float> dxRow = dxt.Slice(i * InWidth + sourceBase + j0, count);
                            TensorPrimitives.Add(dxRow, ct.Slice(i * OutWidth + rowBase + j0, count), dxRow);
                        }
                        else
                        {
                            for (int j = j0; j < j1; j++)
                            {
                                dxt[i * _stride * InWidth + j * _stride + sourceBase] += ct[i * OutWidth + j + rowBase];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>The output indices [first, end) whose tap at kernel offset <paramref name="k"/> reads inside the input.</summary>
    private (int First, int End) ValidRange(int k, int size, int outputSize)
    {
        int first = _padding - k <= 0 ? 0 : (_padding - k + _stride - 1) / _stride;
        int last = (size - 1 + _padding - k) < 0 ? -1 : (size - 1 + _padding - k) / _stride;
        return (first, Math.Min(last + 1, outputSize));
    }
}

/// <summary>y = max(x, 0).</summary>
public sealed class ReLU : Layer
{
    public ReLU(int channels, int height, int width) : base(channels, height, width, channels, height, width) { }

    public override void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, Span<float> y) => TensorPrimitives.Max(x, 0f, y);

    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, ReadOnlySpan<float> parameters, Span<float> gradients, Span<float> dx)
    {
        int length = OutLength;
        for (int i = 0; i < length; i++)
        {
            dx[i] = y[i] > 0f ? dy[i] : 0f;
        }
    }
}

/// <summary>Max pooling that records each window's arg-max (the first maximum in row-major order wins).</summary>
public sealed class MaxPool2D : Layer
{
    private readonly int _size, _stride;
    private readonly int[] _argMax;

    public MaxPool2D(int channels, int height, int width, int size, int? stride = null)
        : base(channels, height, width, channels, (height - size) / (stride ?? size) + 1, (width - size) / (stride ?? size) + 1)
    {
        _size = size;
        _stride = stride ?? size;
        _argMax = new int[OutLength];
    }

    public override void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, Span<float> y)
    {
        Span<int> argMax = _argMax;
        int o = 0, plane = InHeight * InWidth;
        for (int c = 0; c < OutChannels; c++)
        {
            for (int i = 0; i < OutHeight; i++)
            {
                for (int j = 0; j < OutWidth; j++, o++)
                {
                    int at = c * plane + i * _stride * InWidth + j * _stride;
                    int best = at;
                    for (int m = 0; m < _size; m++)
                    {
                        for (int n = 0; n < _size; n++)
                        {
                            int index = at + m * InWidth + n;
                            if (x[index] > x[best])
                            {
                                best = index;
                            }
                        }
                    }

                    y[o] = x[best];
                    argMax[o] = best;
                }
            }
        }
    }

    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, ReadOnlySpan<float> parameters, Span<float> gradients, Span<float> dx)
    {
        ReadOnlySpan<int> argMax = _argMax;
        dx.Clear();
        int length = OutLength;
        for (int o = 0; o < length; o++)
        {
            dx[argMax[o]] += dy[o];
        }
    }
}

/// <summary>y = W·x + b over the flattened input (PyTorch's flatten + Linear).</summary>
public sealed class Dense : Layer
{
    private readonly int _units;

    public Dense(int inChannels, int inHeight, int inWidth, int units) : base(inChannels, inHeight, inWidth, units, 1, 1) => _units = units;

    public override int WeightCount => _units * InLength;
    public override int ParameterCount => WeightCount + _units;
    public override int FanIn => InLength;
    public override long MultiplyAdds => (long)_units * InLength;

    public override void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, Span<float> y)
    {
        int inputs = InLength;
        ReadOnlySpan<float> weight = parameters.Slice(0, WeightCount);
        ReadOnlySpan<float> bias = parameters.Slice(WeightCount, _units);
        for (int o = 0; o < _units; o++)
        {
            y[o] = bias[o] + TensorPrimitives.Dot(weight.Slice(o * inputs, inputs), x);
        }
    }

    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, ReadOnlySpan<float> parameters, Span<float> gradients, Span<float> dx)
    {
        int inputs = InLength;
        ReadOnlySpan<float> weight = parameters.Slice(0, WeightCount);
        Span<float> weightGradient = gradients.Slice(0, WeightCount);
        Span<float> biasGradient = gradients.Slice(WeightCount, _units);
        dx.Clear();
        for (int o = 0; o < _units; o++)
        {
            float g = dy[o];
            Span<float> dwo = weightGradient.Slice(o * inputs, inputs);
            biasGradient[o] += g;
            TensorPrimitives.MultiplyAdd(x, g, dwo, dwo);
            TensorPrimitives.MultiplyAdd(weight.Slice(o * inputs, inputs), g, dx, dx);
        }
    }
}

/// <summary>Softmax over the flattened input; keeps log Σ exp for the loss. Must be last.</summary>
public sealed class Softmax : Layer
{
    public Softmax(int classes) : base(classes, 1, 1, classes, 1, 1) { }

    /// <summary>log Σ_j exp z(j) of the last forward pass.</summary>
    public float LogSumExp { get; private set; }

    public override void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> parameters, Span<float> y)
    {
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        TensorPrimitives.Exp(y, y);
        float sum = TensorPrimitives.Sum(y);
        TensorPrimitives.Divide(y, sum, y);
        LogSumExp = max + MathF.Log(sum);
    }

    /// <summary>Not used: softmax's backward pass needs the label; see <see cref="Backward(ReadOnlySpan{float}, int, Span{float})"/>.</summary>
    public override void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, ReadOnlySpan<float> parameters, Span<float> gradients, Span<float> dx) =>
        throw new NotSupportedException("Softmax is trained with cross-entropy: call Backward(y, label, dx).");

    /// <summary>Softmax with cross-entropy: dL/dz(i) = p(i) − [i = label].</summary>
    public static void Backward(ReadOnlySpan<float> y, int label, Span<float> dx)
    {
        y.CopyTo(dx);
        dx[label] -= 1f;
    }
}
