using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NetGen.Benchmarks.Torch;

/// <summary>
/// Moves a file NetGen saved into TorchSharp modules the way a PyTorch user would: read the safetensors file into a
/// name → tensor dictionary (its own small reader, not NetGen's <c>SafeTensors</c>, so that the check does not trust the
/// writer to read itself back), compare it with the module's <c>state_dict()</c> (names, shapes, dtypes), then
/// <c>load_state_dict(strict: true)</c>. TorchSharp 0.107 has no safetensors reader of its own.
/// </summary>
public static class StateDicts
{
    /// <summary>The tensors of a safetensors file: F32 as float32, I64 as int64 (any other dtype is an error).</summary>
    public static Dictionary<string, Tensor> ReadSafeTensors(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(file);
        int dataStart = checked(8 + (int)headerLength);
        using JsonDocument header = JsonDocument.Parse(Encoding.UTF8.GetString(file, 8, (int)headerLength));
        var tensors = new Dictionary<string, Tensor>();
        foreach (JsonProperty entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
            {
                continue;
            }

            string dtype = entry.Value.GetProperty("dtype").GetString()!;
            long[] shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            long[] offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            ReadOnlySpan<byte> bytes = file.AsSpan(dataStart + (int)offsets[0], (int)(offsets[1] - offsets[0]));
            tensors[entry.Name] = dtype switch
            {
                "F32" => tensor(MemoryMarshal.Cast<byte, float>(bytes).ToArray(), shape),
                "I64" => tensor(MemoryMarshal.Cast<byte, long>(bytes).ToArray(), shape),
                _ => throw new InvalidDataException($"{path}: {entry.Name} has dtype {dtype}, expected F32 or I64."),
            };
        }

        return tensors;
    }

    /// <summary>
    /// Whether <paramref name="file"/> holds exactly the module's state_dict() entries (parameters and buffers) with the
    /// same shapes and dtypes; <paramref name="text"/> says how many of each dtype, or the first mismatch.
    /// </summary>
    public static bool SameEntries(nn.Module module, Dictionary<string, Tensor> file, out string text)
    {
        Dictionary<string, Tensor> expected = module.state_dict();
        foreach ((string name, Tensor t) in expected)
        {
            if (!file.TryGetValue(name, out Tensor? f))
            {
                text = $"{name} missing from the file";
                return false;
            }

            if (!f.shape.SequenceEqual(t.shape) || f.dtype != t.dtype)
            {
                text = $"{name}: file {f.dtype} [{string.Join(", ", f.shape)}], module {t.dtype} [{string.Join(", ", t.shape)}]";
                return false;
            }
        }

        string? extra = file.Keys.FirstOrDefault(k => !expected.ContainsKey(k));
        if (extra is not null)
        {
            text = $"{extra} in the file is not in the module's state_dict()";
            return false;
        }

        int f32 = file.Values.Count(t => t.dtype == ScalarType.Float32), i64 = file.Values.Count(t => t.dtype == ScalarType.Int64);
        text = $"{file.Count} tensors ({f32} F32, {i64} I64)";
        return true;
    }

    /// <summary>Reads the file, checks it against the module's state_dict() and loads it (strict). False on a mismatch.</summary>
    public static bool Load(nn.Module module, string path, out string text)
    {
        Dictionary<string, Tensor> file = ReadSafeTensors(path);
        try
        {
            if (!SameEntries(module, file, out text))
            {
                return false;
            }

            module.load_state_dict(file, strict: true);
            return true;
        }
        finally
        {
            foreach (Tensor t in file.Values)
            {
                t.Dispose();
            }
        }
    }

    /// <summary>A state_dict() entry as floats (parameters, running statistics).</summary>
    public static float[] Floats(nn.Module module, string name)
    {
        using Tensor t = module.state_dict()[name].detach().cpu().contiguous();
        return t.data<float>().ToArray();
    }

    /// <summary>A scalar int64 state_dict() entry (num_batches_tracked).</summary>
    public static long Counter(nn.Module module, string name) => module.state_dict()[name].item<long>();

    /// <summary>
    /// NetGen's EveryLayerNet (Networks.cs) as torch.nn modules under the layer names: Conv2d(bias: false), BatchNorm2d
    /// (eps 1e-3, momentum 0.2), ReLU, depthwise and grouped Conv2d, LeakyReLU(0.1), Dropout(0.25), MaxPool2d and
    /// AvgPool2d with padding, Tanh, Sigmoid, cat, AdaptiveAvgPool2d(1), Linear. Logits out (the softmax is the caller's).
    /// </summary>
    public sealed class EveryLayerModule : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d _conv, _depthwise, _grouped;
        private readonly BatchNorm2d _bn;
        private readonly ReLU _relu;
        private readonly LeakyReLU _leaky;
        private readonly Dropout _dropout;
        private readonly MaxPool2d _maxPool;
        private readonly Tanh _tanh;
        private readonly AvgPool2d _avgPool;
        private readonly Sigmoid _gate;
        private readonly AdaptiveAvgPool2d _globalPool;
        private readonly Linear _dense;

        public EveryLayerModule() : base("EveryLayerNet")
        {
            _conv = Register("conv", nn.Conv2d(3, 8, 3, padding: 1, bias: false));
            _bn = Register("bn", nn.BatchNorm2d(8, eps: 1e-3, momentum: 0.2));
            _relu = Register("relu", nn.ReLU());
            _depthwise = Register("depthwise", nn.Conv2d(8, 8, 3, padding: 1, groups: 8));
            _leaky = Register("leaky", nn.LeakyReLU(0.1));
            _grouped = Register("grouped", nn.Conv2d(8, 8, 1, groups: 2));
            _dropout = Register("dropout", nn.Dropout(0.25));
            _maxPool = Register("max_pool", nn.MaxPool2d(3, stride: 2, padding: 1));
            _tanh = Register("tanh", nn.Tanh());
            _avgPool = Register("avg_pool", nn.AvgPool2d(3, stride: 2, padding: 1));
            _gate = Register("gate", nn.Sigmoid());
            _globalPool = Register("global_pool", nn.AdaptiveAvgPool2d(1));
            _dense = Register("dense", nn.Linear(11, 5));
        }

        private T Register<T>(string name, T module) where T : nn.Module
        {
            register_module(name, module);
            return module;
        }

        public override Tensor forward(Tensor x)
        {
            Tensor relu = _relu.forward(_bn.forward(_conv.forward(x)));
            Tensor add = _grouped.forward(_leaky.forward(_depthwise.forward(relu))) + relu;
            Tensor tanh = _tanh.forward(_maxPool.forward(_dropout.forward(add)));
            Tensor gate = _gate.forward(_avgPool.forward(x));
            Tensor concat = cat([gate, tanh], 1);   // [Concat("tanh")] on the gate: its channels first
            return _dense.forward(_globalPool.forward(concat).flatten(1));
        }
    }

    /// <summary>NetGen's RegressionHeadNet (Networks.cs): Conv2d, BatchNorm2d, Tanh, AvgPool2d(2), flatten, Linear; raw outputs.</summary>
    public sealed class RegressionModule : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d _conv;
        private readonly BatchNorm2d _bn;
        private readonly Tanh _tanh;
        private readonly AvgPool2d _pool;
        private readonly Linear _head;

        public RegressionModule() : base("RegressionHeadNet")
        {
            _conv = Register("conv", nn.Conv2d(2, 4, 3, padding: 1));
            _bn = Register("bn", nn.BatchNorm2d(4));
            _tanh = Register("tanh", nn.Tanh());
            _pool = Register("pool", nn.AvgPool2d(2));
            _head = Register("head", nn.Linear(64, 3));
        }

        private T Register<T>(string name, T module) where T : nn.Module
        {
            register_module(name, module);
            return module;
        }

        public override Tensor forward(Tensor x) =>
            _head.forward(_pool.forward(_tanh.forward(_bn.forward(_conv.forward(x)))).flatten(1));
    }
}
