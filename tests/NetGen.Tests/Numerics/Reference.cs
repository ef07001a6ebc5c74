using System;
using System.Collections.Generic;
using System.Linq;

namespace NetGen.Tests.Numerics;

/// <summary>
/// Plain-loop reference implementations of each layer, written straight from the formulas (PyTorch's
/// semantics) with double accumulation and no cleverness, to check the generated code against.
/// </summary>
public static class Reference
{
    public abstract record Op;

    /// <summary>PyTorch's Conv2d: weight [filters, in/groups, kh, kw], then a bias [filters] unless <paramref name="Bias"/> is false.</summary>
    public sealed record Conv(int Filters, int KernelHeight, int KernelWidth, int Stride = 1, int Padding = 0, int Groups = 1, bool Bias = true) : Op;

    /// <summary>Max pooling; the padding is −∞ (never a window's maximum).</summary>
    public sealed record Pool(int Size, int Stride, int Padding = 0) : Op;

    /// <summary>Average pooling, PyTorch's count_include_pad=True: the padding counts as zeros, every window divided by size².</summary>
    public sealed record AvgPool(int Size, int Stride, int Padding = 0) : Op;

    /// <summary>The mean of each channel: C×H×W → C×1×1.</summary>
    public sealed record GlobalAvgPool : Op;

    public sealed record Tanh : Op;

    public sealed record Sigmoid : Op;

    /// <summary>y = x where x &gt; 0, else slope · x (the slope given as the float the network holds).</summary>
    public sealed record LeakyRelu(float Slope) : Op;

    public sealed record Dense(int Units) : Op;

    public sealed record Relu : Op;

    public sealed record Softmax : Op;

    /// <summary>y = x + (the second input), elementwise.</summary>
    public sealed record Add : Op;

    /// <summary>y = the channels of x, then those of the second input.</summary>
    public sealed record Concat : Op;

    /// <summary>A layer of a graph and the nodes it reads: earlier nodes by index, −1 for the network's input.</summary>
    public sealed record Node(Op Op, params int[] Inputs);

    /// <summary>
    /// Runs <paramref name="ops"/> on one CHW sample, each reading the one before, reading the parameters from one flat
    /// vector in PyTorch's <c>parameters()</c> order (per layer: weight, then bias), and returns the final activation.
    /// </summary>
    public static double[] Forward(IReadOnlyList<Op> ops, ReadOnlySpan<float> parameters, float[] input, int channels, int height, int width)
    {
        var nodes = new Node[ops.Count];
        for (int i = 0; i < ops.Count; i++)
        {
            nodes[i] = new Node(ops[i], i - 1);
        }

        return Forward(nodes, parameters.ToArray().Select(v => (double)v).ToArray(), Array.ConvertAll(input, v => (double)v), channels, height, width);
    }

    /// <summary>
    /// Runs a graph of layers on one CHW sample (in double precision, input given as doubles), each node reading the nodes
    /// it names, with the parameters in declaration order, in inference mode; returns the last node's activation.
    /// </summary>
    public static double[] Forward(IReadOnlyList<Node> nodes, ReadOnlySpan<double> parameters, double[] input, int channels, int height, int width) =>
        ForwardBatch(nodes, parameters, [input], channels, height, width, Mode.Inference)[0];

    /// <summary>
    /// Training or inference. In training, BatchNorm normalizes with the batch's statistics and updates
    /// <see cref="RunningStatistics"/> (running mean then running variance of each BatchNorm, in order), and Dropout keeps an
    /// element when its bits from <see cref="NetGen.Kernels.Dropout.Bits"/> under <see cref="NoiseKey"/> reach the threshold;
    /// in inference BatchNorm uses the running statistics and Dropout passes its input.
    /// </summary>
    public sealed record Mode(bool Training, double[]? RunningStatistics = null, ulong NoiseKey = 0)
    {
        public static readonly Mode Inference = new(false);
    }

    /// <summary>MeanSquaredError: the output is the input; the loss is the mean of (y − t)² over its elements.</summary>
    public sealed record MeanSquaredError : Op;

    /// <summary>BatchNorm2D(ε, momentum), PyTorch's BatchNorm2d: γ, β are parameters; running statistics come from the mode.</summary>
    public sealed record BatchNorm(double Epsilon = 1e-5, double Momentum = 0.1) : Op;

    /// <summary>Dropout(p) as the layer of node index <paramref name="Layer"/> (its salt in the masks).</summary>
    public sealed record Dropout(float P, int Layer) : Op;

    /// <summary>
    /// Runs a graph of layers on a batch of CHW samples in double precision (see <see cref="Forward(IReadOnlyList{Node}, ReadOnlySpan{double}, double[], int, int, int)"/>),
    /// in the given mode; returns each sample's last activation.
    /// </summary>
    public static double[][] ForwardBatch(IReadOnlyList<Node> nodes, ReadOnlySpan<double> parameters, double[][] inputs, int channels, int height, int width, Mode mode)
    {
        int n = inputs.Length;
        var outputs = new (double[][] X, int C, int H, int W)[nodes.Count];
        (double[][] X, int C, int H, int W) Read(int node) => node < 0 ? (inputs, channels, height, width) : outputs[node];
        int offset = 0, stateOffset = 0;
        for (int index = 0; index < nodes.Count; index++)
        {
            Node node = nodes[index];
            (double[][] xs, int c, int h, int w) = Read(node.Inputs[0]);
            var ys = new double[n][];
            int oc = c, oh = h, ow = w;
            switch (node.Op)
            {
                case Conv conv:
                {
                    int wl = conv.Filters * (c / conv.Groups) * conv.KernelHeight * conv.KernelWidth, bl = conv.Bias ? conv.Filters : 0;
                    var weight = parameters.Slice(offset, wl);
                    var bias = parameters.Slice(offset + wl, bl);
                    offset += wl + bl;
                    for (int s = 0; s < n; s++)
                    {
                        ys[s] = Conv2D(xs[s], c, h, w, weight, bias, conv, out oh, out ow);
                    }

                    oc = conv.Filters;
                    break;
                }

                case Pool pool:
                    for (int s = 0; s < n; s++)
                    {
                        ys[s] = MaxPool(xs[s], c, h, w, pool.Size, pool.Stride, pool.Padding, out oh, out ow);
                    }

                    break;
                case AvgPool pool:
                    for (int s = 0; s < n; s++)
                    {
                        ys[s] = AveragePool(xs[s], c, h, w, pool.Size, pool.Stride, pool.Padding, out oh, out ow);
                    }

                    break;
                case GlobalAvgPool:
                    for (int s = 0; s < n; s++)
                    {
                        var y = new double[c];
                        for (int t = 0; t < c; t++)
                        {
                            double sum = 0;
                            for (int i = 0; i < h * w; i++)
                            {
                                sum += xs[s][t * h * w + i];
                            }

                            y[t] = sum / (h * w);
                        }

                        ys[s] = y;
                    }

                    (oh, ow) = (1, 1);
                    break;
                case Tanh:
                    for (int s = 0; s < n; s++)
                    {
                        ys[s] = Array.ConvertAll(xs[s], Math.Tanh);
                    }

                    break;
                case Sigmoid:
                    for (int s = 0; s < n; s++)
                    {
                        ys[s] = Array.ConvertAll(xs[s], v => 1 / (1 + Math.Exp(-v)));
                    }

                    break;
                case LeakyRelu leaky:
                    for (int s = 0; s < n; s++)
                    {
                        ys[s] = Array.ConvertAll(xs[s], v => v > 0 ? v : (double)leaky.Slope * v);
                    }

                    break;
                case Dense dense:
                {
                    int inputs1 = c * h * w;
                    var weight = parameters.Slice(offset, dense.Units * inputs1);
                    var bias = parameters.Slice(offset + dense.Units * inputs1, dense.Units);
                    offset += dense.Units * (inputs1 + 1);
                    for (int s = 0; s < n; s++)
                    {
                        var y = new double[dense.Units];
                        for (int o = 0; o < dense.Units; o++)
                        {
                            double sum = bias[o];
                            for (int i = 0; i < inputs1; i++)
                            {
                                sum += weight[o * inputs1 + i] * xs[s][i];
                            }

                            y[o] = sum;
                        }

                        ys[s] = y;
                    }

                    (oc, oh, ow) = (dense.Units, 1, 1);
                    break;
                }

                case Relu:
                    for (int s = 0; s < n; s++)
                    {
                        ys[s] = Array.ConvertAll(xs[s], v => Math.Max(v, 0));
                    }

                    break;
                case Add:
                    for (int s = 0; s < n; s++)
                    {
                        double[] other = Read(node.Inputs[1]).X[s];
                        ys[s] = xs[s].Select((v, i) => v + other[i]).ToArray();
                    }

                    break;
                case Concat:
                    for (int s = 0; s < n; s++)
                    {
                        ys[s] = [.. xs[s], .. Read(node.Inputs[1]).X[s]];
                    }

                    oc = c + Read(node.Inputs[1]).C;
                    break;
                case BatchNorm bn:
                {
                    var gamma = parameters.Slice(offset, c).ToArray();
                    var beta = parameters.Slice(offset + c, c).ToArray();
                    offset += 2 * c;
                    double[] running = mode.RunningStatistics ?? throw new InvalidOperationException("BatchNorm needs running statistics in the mode.");
                    int plane = h * w, m = n * plane;
                    for (int t = 0; t < c; t++)
                    {
                        double mean, variance;
                        if (mode.Training)
                        {
                            mean = 0;
                            for (int s = 0; s < n; s++)
                            {
                                for (int i = 0; i < plane; i++)
                                {
                                    mean += xs[s][t * plane + i];
                                }
                            }

                            mean /= m;
                            variance = 0;
                            for (int s = 0; s < n; s++)
                            {
                                for (int i = 0; i < plane; i++)
                                {
                                    double d = xs[s][t * plane + i] - mean;
                                    variance += d * d;
                                }
                            }

                            variance /= m;
                            running[stateOffset + t] = (1 - bn.Momentum) * running[stateOffset + t] + bn.Momentum * mean;
                            running[stateOffset + c + t] = (1 - bn.Momentum) * running[stateOffset + c + t] + bn.Momentum * variance * m / (m - 1);
                        }
                        else
                        {
                            mean = running[stateOffset + t];
                            variance = running[stateOffset + c + t];
                        }

                        for (int s = 0; s < n; s++)
                        {
                            ys[s] ??= new double[c * plane];
                            for (int i = 0; i < plane; i++)
                            {
                                ys[s][t * plane + i] = gamma[t] * (xs[s][t * plane + i] - mean) / Math.Sqrt(variance + bn.Epsilon) + beta[t];
                            }
                        }
                    }

                    stateOffset += 2 * c;
                    break;
                }

                case Dropout dropout:
                {
                    uint threshold = NetGen.Kernels.Dropout.Threshold(dropout.P);
                    for (int s = 0; s < n; s++)
                    {
                        ys[s] = mode.Training
                            ? xs[s].Select((v, e) => NetGen.Kernels.Dropout.Bits(mode.NoiseKey, dropout.Layer, s, e) >= threshold ? v / (1 - dropout.P) : 0).ToArray()
                            : (double[])xs[s].Clone();
                    }

                    break;
                }

                case MeanSquaredError:
                    for (int s = 0; s < n; s++)
                    {
                        ys[s] = (double[])xs[s].Clone();
                    }

                    break;
                case Softmax:
                    for (int s = 0; s < n; s++)
                    {
                        double[] x = xs[s];
                        double max = x.Max();
                        double[] p = x.Select(v => Math.Exp(v - max)).ToArray();
                        double sum = p.Sum();
                        ys[s] = p.Select(v => v / sum).ToArray();
                    }

                    (oc, oh, ow) = (c * h * w, 1, 1);
                    break;
            }

            outputs[index] = (ys, oc, oh, ow);
        }

        if (offset != parameters.Length)
        {
            throw new InvalidOperationException($"Reference used {offset} parameters, the network has {parameters.Length}.");
        }

        return outputs[^1].X;
    }

    /// <summary>
    /// The mean over a batch of L = −log p(label) in training mode, and its gradients dL/dθ and dL/d(each input) by central
    /// differences in double precision (step 1e-6), independent of the generated backward pass. The running statistics in
    /// <paramref name="mode"/> are updated once, as one training step would. With <paramref name="every"/> above 1, only every
    /// such parameter and input gets its difference (the others NaN): for networks too large to difference whole.
    /// </summary>
    public static (double Loss, double[] Parameters, double[][] Inputs) TrainingGradients(
        IReadOnlyList<Node> nodes, float[] parameters, float[][] inputs, int[] labels, int channels, int height, int width, Mode mode, int every = 1)
    {
        const double step = 1e-6;
        double[] theta = Array.ConvertAll(parameters, v => (double)v);
        double[][] xs = inputs.Select(x => Array.ConvertAll(x, v => (double)v)).ToArray();
        double[] running = (double[])(mode.RunningStatistics ?? []).Clone();
        double Loss()
        {
            var scratch = mode with { RunningStatistics = (double[])running.Clone() };
            double[][] p = ForwardBatch(nodes, theta, xs, channels, height, width, scratch);
            return labels.Select((label, s) => -Math.Log(p[s][label])).Average();
        }

        double Difference(double[] values, int i)
        {
            double original = values[i];
            values[i] = original + step;
            double plus = Loss();
            values[i] = original - step;
            double minus = Loss();
            values[i] = original;
            return (plus - minus) / (2 * step);
        }

        double loss = Loss();
        double[] dTheta = Enumerable.Range(0, theta.Length).Select(i => i % every == 0 ? Difference(theta, i) : double.NaN).ToArray();
        double[][] dInputs = xs.Select(x => Enumerable.Range(0, x.Length).Select(i => i % every == 0 ? Difference(x, i) : double.NaN).ToArray()).ToArray();
        if (mode.RunningStatistics is { } update)
        {
            ForwardBatch(nodes, theta, xs, channels, height, width, mode); // the step's one update of the running statistics
        }

        return (loss, dTheta, dInputs);
    }

    /// <summary>
    /// The mean over a batch and over the output's elements of (y − t)², and its gradients dL/dθ and dL/d(each input) by
    /// central differences in double precision (step 1e-6), in inference mode (a regression network without batch statistics).
    /// </summary>
    public static (double Loss, double[] Parameters, double[][] Inputs) RegressionGradients(
        IReadOnlyList<Node> nodes, float[] parameters, float[][] inputs, float[][] targets, int channels, int height, int width)
    {
        const double step = 1e-6;
        double[] theta = Array.ConvertAll(parameters, v => (double)v);
        double[][] xs = inputs.Select(x => Array.ConvertAll(x, v => (double)v)).ToArray();
        double Loss() => ForwardBatch(nodes, theta, xs, channels, height, width, Mode.Inference)
            .Select((y, s) => y.Select((v, k) => (v - targets[s][k]) * (v - targets[s][k])).Average())
            .Average();

        double Difference(double[] values, int i)
        {
            double original = values[i];
            values[i] = original + step;
            double plus = Loss();
            values[i] = original - step;
            double minus = Loss();
            values[i] = original;
            return (plus - minus) / (2 * step);
        }

        return (Loss(),
            Enumerable.Range(0, theta.Length).Select(i => Difference(theta, i)).ToArray(),
            xs.Select(x => Enumerable.Range(0, x.Length).Select(i => Difference(x, i)).ToArray()).ToArray());
    }

    /// <summary>
    /// dL/dθ and dL/d(input) of L = −log p(label) for one sample, by central differences of the double-precision
    /// <see cref="Forward(IReadOnlyList{Node}, ReadOnlySpan{double}, double[], int, int, int)"/> with a step of 1e-6: accurate
    /// to about 1e-9, independently of the generated backward pass. A step crosses a ReLU kink or a pooling tie only where an
    /// activation lies within 1e-6 of one, which random test values make vanishingly rare.
    /// </summary>
    public static (double[] Parameters, double[] Input) Gradients(
        IReadOnlyList<Node> nodes, float[] parameters, float[] input, int channels, int height, int width, int label)
    {
        const double step = 1e-6;
        double[] theta = Array.ConvertAll(parameters, v => (double)v);
        double[] x = Array.ConvertAll(input, v => (double)v);
        double Loss() => -Math.Log(Forward(nodes, theta, x, channels, height, width)[label]);

        double[] Differences(double[] values)
        {
            var gradient = new double[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                double original = values[i];
                values[i] = original + step;
                double plus = Loss();
                values[i] = original - step;
                double minus = Loss();
                values[i] = original;
                gradient[i] = (plus - minus) / (2 * step);
            }

            return gradient;
        }

        return (Differences(theta), Differences(x));
    }

    /// <summary>
    /// y(k,i,j) = b(k) + Σ_t Σ_m Σ_n w(k,t,m,n) · x(g·C/G + t, i·s+m−p, j·s+n−p), zero outside x, over the C/G channels t of
    /// filter k's group g = ⌊k / (filters/G)⌋ (all C channels with one group); b(k) = 0 without a bias.
    /// </summary>
    public static double[] Conv2D(double[] x, int c, int h, int w, ReadOnlySpan<double> weight, ReadOnlySpan<double> bias, Conv conv, out int outHeight, out int outWidth)
    {
        int kh = conv.KernelHeight, kw = conv.KernelWidth, s = conv.Stride, p = conv.Padding;
        int channels = c / conv.Groups, filters = conv.Filters / conv.Groups;
        outHeight = (h + 2 * p - kh) / s + 1;
        outWidth = (w + 2 * p - kw) / s + 1;
        var y = new double[conv.Filters * outHeight * outWidth];
        for (int k = 0; k < conv.Filters; k++)
        {
            int first = k / filters * channels;
            for (int i = 0; i < outHeight; i++)
            {
                for (int j = 0; j < outWidth; j++)
                {
                    double sum = conv.Bias ? bias[k] : 0;
                    for (int t = 0; t < channels; t++)
                    {
                        for (int m = 0; m < kh; m++)
                        {
                            for (int n = 0; n < kw; n++)
                            {
                                int u = i * s + m - p, v = j * s + n - p;
                                if (u >= 0 && u < h && v >= 0 && v < w)
                                {
                                    sum += weight[((k * channels + t) * kh + m) * kw + n] * x[((first + t) * h + u) * w + v];
                                }
                            }
                        }
                    }

                    y[(k * outHeight + i) * outWidth + j] = sum;
                }
            }
        }

        return y;
    }

    /// <summary>y(c,i,j) = max_{m,n} x(c, i·s+m−p, j·s+n−p) over the taps inside x (the padding is −∞).</summary>
    public static double[] MaxPool(double[] x, int c, int h, int w, int size, int stride, int padding, out int outHeight, out int outWidth)
    {
        outHeight = (h + 2 * padding - size) / stride + 1;
        outWidth = (w + 2 * padding - size) / stride + 1;
        var y = new double[c * outHeight * outWidth];
        for (int t = 0; t < c; t++)
        {
            for (int i = 0; i < outHeight; i++)
            {
                for (int j = 0; j < outWidth; j++)
                {
                    double best = double.NegativeInfinity;
                    for (int m = 0; m < size; m++)
                    {
                        for (int n = 0; n < size; n++)
                        {
                            int u = i * stride + m - padding, v = j * stride + n - padding;
                            if (u >= 0 && u < h && v >= 0 && v < w)
                            {
                                best = Math.Max(best, x[(t * h + u) * w + v]);
                            }
                        }
                    }

                    y[(t * outHeight + i) * outWidth + j] = best;
                }
            }
        }

        return y;
    }

    /// <summary>y(c,i,j) = (1 / k²) · Σ_{m,n} x(c, i·s+m−p, j·s+n−p), zero outside x.</summary>
    public static double[] AveragePool(double[] x, int c, int h, int w, int size, int stride, int padding, out int outHeight, out int outWidth)
    {
        outHeight = (h + 2 * padding - size) / stride + 1;
        outWidth = (w + 2 * padding - size) / stride + 1;
        var y = new double[c * outHeight * outWidth];
        for (int t = 0; t < c; t++)
        {
            for (int i = 0; i < outHeight; i++)
            {
                for (int j = 0; j < outWidth; j++)
                {
                    double sum = 0;
                    for (int m = 0; m < size; m++)
                    {
                        for (int n = 0; n < size; n++)
                        {
                            int u = i * stride + m - padding, v = j * stride + n - padding;
                            if (u >= 0 && u < h && v >= 0 && v < w)
                            {
                                sum += x[(t * h + u) * w + v];
                            }
                        }
                    }

                    y[(t * outHeight + i) * outWidth + j] = sum / (size * size);
                }
            }
        }

        return y;
    }
}
