using System;
using TorchSharp;
using static TorchSharp.torch;

var a = torch.ones(2, 3);
var b = (a * 2).sum();
Console.WriteLine($"torch ok: {b.item<float>()} threads={torch.get_num_threads()} {torch.__version__}");
