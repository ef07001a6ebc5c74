using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using NetGen.Tests.EndToEnd;
using Xunit;

namespace NetGen.Tests.Generator;

/// <summary>
/// docs/diagnostics.md against the generator: one section per diagnostic, each descriptor's help link pointing at its
/// section, and each section's example declaration producing the message the section shows.
/// </summary>
public class DiagnosticDocumentationTests
{
    private static readonly DiagnosticDescriptor[] Descriptors = typeof(NetGen.Generator.Diagnostics)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
        .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
        .ToArray();

    private static string Page() => File.ReadAllText(Path.Combine(FreshProject.RepositoryRoot(), "docs", "diagnostics.md"));

    /// <summary>The page's sections by ID: the text from "## NG0001" to the next heading of that level.</summary>
    private static Dictionary<string, string> Sections()
    {
        string page = Page();
        MatchCollection headings = Regex.Matches(page, @"^## (NG\d{4})\s*$", RegexOptions.Multiline);
        var sections = new Dictionary<string, string>();
        for (int i = 0; i < headings.Count; i++)
        {
            int end = i + 1 < headings.Count ? headings[i + 1].Index : page.Length;
            sections.Add(headings[i].Groups[1].Value, page[headings[i].Index..end]);
        }

        return sections;
    }

    public static TheoryData<string> Ids() => new(Descriptors.Select(d => d.Id).Order());

    [Fact]
    public void Every_diagnostic_has_one_section_and_every_section_a_diagnostic()
    {
        Assert.Equal(39, Descriptors.Length);
        Assert.Equal(Descriptors.Select(d => d.Id).Order(), Sections().Keys.Order());
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void The_help_link_is_the_section_of_docs_diagnostics(string id)
    {
        DiagnosticDescriptor descriptor = Assert.Single(Descriptors, d => d.Id == id);

        // GitHub's anchor for the heading "## NG0001" is #ng0001.
        Assert.Equal($"https://github.com/netgen-dev/netgen/blob/main/docs/diagnostics.md#ng{id[2..]}", descriptor.HelpLinkUri);
        Assert.Contains($"| [{id}](#ng{id[2..]}) | {descriptor.Title} |", Page(), StringComparison.Ordinal);
        Assert.Contains($"**{descriptor.Title}.**", Sections()[id], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void The_sections_example_gives_the_message_it_shows(string id)
    {
        string section = Sections()[id];
        Match code = Regex.Match(section, "```csharp\n(.*?)```", RegexOptions.Singleline);
        Match shown = Regex.Match(section, $"^(error|info) {id}: (.*)$", RegexOptions.Multiline);
        Assert.True(shown.Success, $"{id}: the section shows no message");
        DiagnosticSeverity severity = Assert.Single(Descriptors, d => d.Id == id).DefaultSeverity;
        Assert.Equal(severity == DiagnosticSeverity.Error ? "error" : "info", shown.Groups[1].Value);
        if (id == "NG0015")
        {
            // An internal error has no declaration that causes it on purpose.
            Assert.False(code.Success);
            return;
        }

        Assert.True(code.Success, $"{id}: the section has no example declaration");

        // One source per file where the example shows several ("// Net.cs", "// Net.Head.cs").
        string[] files = Regex.Split(code.Groups[1].Value, @"^// \S+\.cs\n", RegexOptions.Multiline)
            .Where(f => !string.IsNullOrWhiteSpace(f))
            .Select(f => "using NetGen;\n" + f)
            .ToArray();
        string directory = Directory.CreateTempSubdirectory("netgen-docs-").FullName;
        try
        {
            var result = GeneratorHarness.Run(files, WeightsFiles(code.Groups[1].Value, directory).Concat(OnnxFiles(code.Groups[1].Value, directory)));
            Diagnostic diagnostic = Assert.Single(result.GeneratorDiagnostics);
            Assert.Equal(id, diagnostic.Id);
            Assert.Equal(shown.Groups[2].Value, diagnostic.GetMessage(CultureInfo.InvariantCulture).Replace(directory + "/", ""));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// The ONNX models an example describes in comments (<c>// models/net.onnx: input [N, 1, 8, 8] → …</c>), written to
    /// <paramref name="directory"/> from the builders in <see cref="NetGen.Tests.Onnx.OnnxDocumentationModels"/>, which
    /// knows each description the page uses.
    /// </summary>
    private static IEnumerable<GeneratorHarness.FileOnDisk> OnnxFiles(string example, string directory)
    {
        foreach (Match file in Regex.Matches(example, @"^// (\S+\.onnx): (.*)$", RegexOptions.Multiline))
        {
            string path = Path.Combine(directory, file.Groups[1].Value);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, NetGen.Tests.Onnx.OnnxDocumentationModels.Build(file.Groups[2].Value));
            yield return new GeneratorHarness.FileOnDisk(path);
        }
    }

    /// <summary>
    /// The weights files an example describes in comments, written to <paramref name="directory"/>: a line
    /// <c>// net.safetensors: dense1.weight F32 [10, 16], dense1.bias F32 [10]</c> is a file of those tensors (zeros), and
    /// <c>// net.safetensors, truncated to 100 bytes: …</c> its first 100 bytes.
    /// </summary>
    private static IEnumerable<GeneratorHarness.FileOnDisk> WeightsFiles(string example, string directory)
    {
        foreach (Match file in Regex.Matches(example, @"^// (\S+\.safetensors)(?:, truncated to (\d+) bytes)?: (.*)$", RegexOptions.Multiline))
        {
            var tensors = Regex.Matches(file.Groups[3].Value, @"(\S+) (\w+) \[([\d, ]*)\]").Select(t =>
            {
                int[] shape = t.Groups[3].Value.Split(", ", StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
                int size = t.Groups[2].Value switch { "F64" or "I64" => 8, "F16" or "BF16" => 2, _ => 4 };
                return new NetGen.Tests.Baking.RawTensor(t.Groups[1].Value, t.Groups[2].Value, shape, new byte[size * shape.Aggregate(1, (a, b) => a * b)]);
            });
            byte[] bytes = NetGen.Tests.Baking.SafeTensorsBytes.Build(tensors);
            if (file.Groups[2].Success)
            {
                bytes = bytes[..int.Parse(file.Groups[2].Value, CultureInfo.InvariantCulture)];
            }

            string path = Path.Combine(directory, file.Groups[1].Value);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes);
            yield return new GeneratorHarness.FileOnDisk(path);
        }
    }
}
