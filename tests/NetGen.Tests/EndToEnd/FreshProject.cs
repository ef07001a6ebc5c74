using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Xunit;

namespace NetGen.Tests.EndToEnd;

/// <summary>
/// What the end-to-end tests share to set up a user's fresh project: the repository, the dotnet CLI, the project files
/// (one referencing src/ as projects, one referencing packed packages), and where a build puts its outputs.
/// </summary>
internal static class FreshProject
{
    /// <summary>The app a source-referencing project builds, relative to its folder.</summary>
    public static readonly string AppDll = Path.Combine("bin", "Release", "net10.0", "UserApp.dll");

    /// <summary>The repository root: the folder above the test binaries that holds NetGen.sln.</summary>
    public static string RepositoryRoot()
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

    /// <summary>Runs the dotnet CLI in <paramref name="directory"/>, without build servers; stdout then stderr.</summary>
    public static (int ExitCode, string Output) Dotnet(string arguments, string directory)
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

    /// <summary>
    /// Writes <paramref name="directory"/>/UserApp.csproj: a console app that references src/Runtime and src/Generator as
    /// projects, treats warnings as errors, emits the generated files under obj/, and has
    /// <paramref name="additionalFiles"/> (relative paths) as AdditionalFiles.
    /// </summary>
    public static void WriteSourceReferencingProject(string directory, params string[] additionalFiles)
    {
        string repository = RepositoryRoot();
        string files = string.Concat(additionalFiles.Select(file => $"\n    <AdditionalFiles Include=\"{file}\" />"));
        File.WriteAllText(Path.Combine(directory, "UserApp.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{repository}/src/Runtime/NetGen.Runtime.csproj" />
                <ProjectReference Include="{repository}/src/Generator/NetGen.Generator.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />{files}
              </ItemGroup>
            </Project>
            """);
    }

    /// <summary>The folder where a source-referencing project's build wrote NetGen's generated files.</summary>
    public static string GeneratedFolder(string directory) =>
        Path.Combine(directory, "obj", "Release", "net10.0", "generated", "NetGen.Generator", "NetGen.Generator.NetworkGenerator");

    /// <summary>
    /// A package version of its own, "0.0.1-{tag}{time}", so that NuGet's cache never serves a package packed by an
    /// earlier run.
    /// </summary>
    public static string UniqueVersion(string tag) =>
        "0.0.1-" + tag + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);

    /// <summary>Packs each project (a path relative to the repository) at <paramref name="version"/> into <paramref name="feed"/>.</summary>
    public static void Pack(string feed, string version, params string[] projects)
    {
        string repository = RepositoryRoot();
        foreach (string project in projects)
        {
            (int exit, string output) = Dotnet($"pack \"{repository}/{project}\" -c Release -o \"{feed}\" -p:PackageVersion={version}", repository);
            Assert.True(exit == 0, output);
        }
    }

    /// <summary>
    /// Writes <paramref name="directory"/>/nuget.config with <paramref name="feed"/> as a package source, and App.csproj:
    /// a console app that treats warnings as errors and references <paramref name="package"/> at <paramref name="version"/>.
    /// </summary>
    public static void WritePackageReferencingProject(string directory, string feed, string package, string version)
    {
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="netgen-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(directory, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{package}" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
    }
}

/// <summary>The tests that build src/ themselves run one at a time, so their builds never share obj/ folders.</summary>
[CollectionDefinition(nameof(EndToEnd))]
public sealed class EndToEnd { }
