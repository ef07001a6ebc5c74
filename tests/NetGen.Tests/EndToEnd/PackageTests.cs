using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Xunit;

namespace NetGen.Tests.EndToEnd;

/// <summary>
/// As a new user would: pack NetGen (and NetGen.Images), create a console project in a temporary folder, add the package
/// from a local folder source, declare a network, build, run a forward pass and a training step (or load an image).
/// </summary>
[Collection(nameof(EndToEnd))]
public sealed class PackageTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "netgen-package-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void A_fresh_project_using_the_NetGen_package_builds_and_trains()
    {
        string feed = Path.Combine(_directory, "feed");
        string app = Path.Combine(_directory, "app");
        Directory.CreateDirectory(app);
        string version = FreshProject.UniqueVersion("test");

        FreshProject.Pack(feed, version, "src/Runtime/NetGen.Runtime.csproj");
        string package = Path.Combine(feed, $"NetGen.{version}.nupkg");
        using (ZipArchive zip = ZipFile.OpenRead(package))
        {
            string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
            Assert.Contains("lib/net10.0/NetGen.dll", entries);
            Assert.Contains("analyzers/dotnet/cs/NetGen.Generator.dll", entries);
            Assert.Contains("README.md", entries);
            Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal) && e.Contains("Generator", StringComparison.Ordinal));
        }

        FreshProject.WritePackageReferencingProject(app, feed, "NetGen", version);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using System;
            using NetGen;
            using NetGen.Optimizers;

            var net = new Tiny();
            net.InitializeParameters(7);
            var inputs = new float[8 * Tiny.InputLength];
            var labels = new int[8];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = (i % 11) / 11f;
            for (int i = 0; i < labels.Length; i++) labels[i] = i % Tiny.OutputLength;
            var p = new float[Tiny.OutputLength];
            net.Forward(inputs.AsSpan(0, Tiny.InputLength), p);
            var adam = new Adam(0.01f);
            float first = net.TrainBatch(inputs, labels);
            adam.Step(net.Parameters, net.Gradients);
            float last = first;
            for (int step = 0; step < 50; step++) { last = net.TrainBatch(inputs, labels); adam.Step(net.Parameters, net.Gradients); }
            Console.WriteLine($"params={Tiny.ParameterCount} first={first} last={last}");
            Console.WriteLine(last < first / 2 ? "LEARNED" : "DID NOT LEARN");

            [Input(1, 12, 12)]
            [Conv2D(4, 3)]
            [ReLU]
            [MaxPool2D(2)]
            [Dense(3)]
            [Softmax]
            public partial class Tiny { }
            """);

        (int exit, string output) = FreshProject.Dotnet("run -c Release", app);
        Assert.True(exit == 0, output);
        Assert.Contains("params=343 ", output);
        Assert.Contains("LEARNED", output);
    }

    [Fact]
    public void A_fresh_project_referencing_NetGen_Images_alone_gets_the_generator_and_loads_an_image()
    {
        string feed = Path.Combine(_directory, "feed");
        string app = Path.Combine(_directory, "app");
        Directory.CreateDirectory(app);
        string version = FreshProject.UniqueVersion("images");

        FreshProject.Pack(feed, version, "src/Runtime/NetGen.Runtime.csproj", "src/Images/NetGen.Images.csproj");
        using (ZipArchive zip = ZipFile.OpenRead(Path.Combine(feed, $"NetGen.Images.{version}.nupkg")))
        {
            string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
            Assert.Contains("lib/net10.0/NetGen.Images.dll", entries);
            Assert.DoesNotContain("lib/net10.0/NetGen.dll", entries); // NetGen comes as a dependency
            using var reader = new StreamReader(zip.GetEntry("NetGen.Images.nuspec")!.Open());
            string nuspec = reader.ReadToEnd();
            // include="All": the dependency brings NetGen's generator, which a default dependency (exclude="Analyzers") would not.
            Assert.Contains($"<dependency id=\"NetGen\" version=\"{version}\" include=\"All\" />", nuspec, StringComparison.Ordinal);
            Assert.Contains("<dependency id=\"SkiaSharp.NativeAssets.Linux.NoDependencies\"", nuspec, StringComparison.Ordinal);
        }

        FreshProject.WritePackageReferencingProject(app, feed, "NetGen.Images", version);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using System;
            using System.IO;
            using System.Linq;
            using NetGen;
            using NetGen.Images;
            using SkiaSharp;

            // A 30×20 red PNG, drawn with the SkiaSharp that NetGen.Images brings.
            using (var bitmap = new SKBitmap(30, 20))
            {
                bitmap.Erase(new SKColor(255, 0, 0));
                File.WriteAllBytes("red.png", bitmap.Encode(SKEncodedImageFormat.Png, 100).ToArray());
            }

            var net = new Tiny();
            net.InitializeParameters(7);
            float[] input = ImageTransform.For(net).Load("red.png");
            int label = net.Predict(input);
            Console.WriteLine($"length={input.Length} red={input.Take(144).Average()} green={input.Skip(144).Take(144).Average()} label={label}");

            [Input(3, 12, 12)]
            [Conv2D(4, 3)]
            [ReLU]
            [MaxPool2D(2)]
            [Dense(3)]
            [Softmax]
            public partial class Tiny { }
            """);

        (int exit, string output) = FreshProject.Dotnet("run -c Release", app);
        Assert.True(exit == 0, output);
        Assert.Contains("length=432 red=1 green=0 label=", output);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
