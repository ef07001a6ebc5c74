using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using SkiaSharp;
using Xunit;

namespace NetGen.Images.Tests;

/// <summary>
/// As a new user would: pack NetGen and NetGen.Images, create a console project that references NetGen.Images alone,
/// declare a network, load an image file into it and predict.
/// </summary>
public sealed class PackageTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    [Fact]
    public void A_fresh_project_referencing_NetGen_Images_alone_gets_the_generator_and_loads_an_image()
    {
        string repository = RepositoryRoot();
        string feed = Path.Combine(_directory.Path, "feed");
        string app = Directory.CreateDirectory(Path.Combine(_directory.Path, "app")).FullName;
        // A version of its own, so that NuGet's cache never serves a package packed by an earlier run.
        string version = "0.0.1-images" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);

        // The solution is built before its tests run: pack what it built, without building or restoring src/ again
        // (NetGen.Tests' own package test may be building src/Runtime at the same time).
        foreach (string project in (string[])["src/Runtime/NetGen.Runtime.csproj", "src/Images/NetGen.Images.csproj"])
        {
            (int packExit, string packOutput) = Dotnet(
                $"pack \"{repository}/{project}\" -c Release --no-build --no-restore -o \"{feed}\" -p:PackageVersion={version}", repository);
            Assert.True(packExit == 0, packOutput);
        }

        using (ZipArchive zip = ZipFile.OpenRead(Path.Combine(feed, $"NetGen.Images.{version}.nupkg")))
        {
            string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
            Assert.Contains("lib/net10.0/NetGen.Images.dll", entries);
            Assert.DoesNotContain(entries, e => e.StartsWith("lib/", StringComparison.Ordinal) && e.Contains("NetGen.dll", StringComparison.Ordinal));
            using var reader = new StreamReader(zip.GetEntry("NetGen.Images.nuspec")!.Open());
            string nuspec = reader.ReadToEnd();
            Assert.Contains($"<dependency id=\"NetGen\" version=\"{version}\" include=\"All\" />", nuspec, StringComparison.Ordinal);
            Assert.Contains("<dependency id=\"SkiaSharp.NativeAssets.Linux.NoDependencies\"", nuspec, StringComparison.Ordinal);
        }

        string image = TestImages.WritePng(Path.Combine(_directory.Path, "red.png"), 30, 20, (_, _) => new SKColor(255, 0, 0));
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="netgen-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="NetGen.Images" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using System;
            using System.Linq;
            using NetGen;
            using NetGen.Images;

            var net = new Tiny();
            net.InitializeParameters(7);
            float[] input = ImageTransform.For(net).Load(args[0]);
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

        (int exit, string output) = Dotnet($"run -c Release -- \"{image}\"", app);
        Assert.True(exit == 0, output);
        Assert.Contains("length=432 red=1 green=0 label=", output, StringComparison.Ordinal);
    }

    public void Dispose() => _directory.Dispose();

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "NetGen.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("NetGen.sln not found above " + AppContext.BaseDirectory);
    }

    private static (int ExitCode, string Output) Dotnet(string arguments, string directory)
    {
        var start = new ProcessStartInfo("dotnet", arguments + " --disable-build-servers")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }
}
