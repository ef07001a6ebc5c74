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

    public sealed record Pool(int Size, int Stride) : Op;

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
    /// it names, with the parameters in declaration order; returns the last node's activation.
    /// </summary>
    public static double[] Forward(IReadOnlyList<Node> nodes, ReadOnlySpan<double> parameters, double[] input, int channels, int height, int width)
    {
        var outputs = new (double[] X, int C, int H, int W)[nodes.Count];
        (double[] X, int C, int H, int W) Read(int node) => node < 0 ? (input, channels, height, width) : outputs[node];
        int offset = 0;
        for (int index = 0; index < nodes.Count; index++)
        {
            Node node = nodes[index];
            (double[] x, int c, int h, int w) = Read(node.Inputs[0]);
            switch (node.Op)
            {
                case Conv conv:
                {
                    int wl = conv.Filters * (c / conv.Groups) * conv.KernelHeight * conv.KernelWidth, bl = conv.Bias ? conv.Filters : 0;
                    var weight = parameters.Slice(offset, wl);
                    var bias = parameters.Slice(offset + wl, bl);
                    offset += wl + bl;
                    x = Conv2D(x, c, h, w, weight, bias, conv, out h, out w);
                    c = conv.Filters;
                    break;
                }

                case Pool pool:
                    x = MaxPool(x, c, h, w, pool.Size, pool.Stride, out h, out w);
                    break;
                case Dense dense:
                {
                    int inputs = x.Length;
                    var weight = parameters.Slice(offset, dense.Units * inputs);
                    var bias = parameters.Slice(offset + dense.Units * inputs, dense.Units);
                    offset += dense.Units * (inputs + 1);
                    var y = new double[dense.Units];
                    for (int o = 0; o < dense.Units; o++)
                    {
                        double sum = bias[o];
                        for (int i = 0; i < inputs; i++)
                        {
                            sum += weight[o * inputs + i] * x[i];
                        }

                        y[o] = sum;
                    }

                    x = y;
                    c = dense.Units;
                    h = w = 1;
                    break;
                }

                case Relu:
                    x = Array.ConvertAll(x, v => Math.Max(v, 0));
                    break;
                case Add:
                {
                    double[] other = Read(node.Inputs[1]).X;
                    var y = new double[x.Length];
                    for (int i = 0; i < y.Length; i++)
                    {
                        y[i] = x[i] + other[i];
                    }

                    x = y;
                    break;
                }

                case Concat:
                {
                    (double[] other, int otherChannels, _, _) = Read(node.Inputs[1]);
                    x = [.. x, .. other];
                    c += otherChannels;
                    break;
                }

                case Softmax:
                {
                    double max = double.NegativeInfinity;
                    foreach (double v in x)
                    {
                        max = Math.Max(max, v);
                    }

                    double sum = 0;
                    var p = new double[x.Length];
                    for (int i = 0; i < x.Length; i++)
                    {
                        p[i] = Math.Exp(x[i] - max);
                        sum += p[i];
                    }

                    for (int i = 0; i < p.Length; i++)
                    {
                        p[i] /= sum;
                    }

                    x = p;
                    c = x.Length;
                    h = w = 1;
                    break;
                }
            }

            outputs[index] = (x, c, h, w);
        }

        if (offset != parameters.Length)
        {
            throw new InvalidOperationException($"Reference used {offset} parameters, the network has {parameters.Length}.");
        }

        return outputs[^1].X;
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

    /// <summary>y(c,i,j) = max_{m,n} x(c, i·s+m, j·s+n).</summary>
    public static double[] MaxPool(double[] x, int c, int h, int w, int size, int stride, out int outHeight, out int outWidth)
    {
        outHeight = (h - size) / stride + 1;
        outWidth = (w - size) / stride + 1;
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
                            best = Math.Max(best, x[(t * h + i * stride + m) * w + j * stride + n]);
                        }
                    }

                    y[(t * outHeight + i) * outWidth + j] = best;
                }
            }
        }

        return y;
    }
}
