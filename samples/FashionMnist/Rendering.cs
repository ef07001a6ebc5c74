using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using NetGen.Metrics;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FashionMnist;

/// <summary>The Spectre.Console renderings of the commands: tables, the probability chart and the image.</summary>
internal static class Rendering
{
    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    /// <summary>The training table: one row per epoch, from <paramref name="skip"/> on.</summary>
    public static Table EpochTable(IReadOnlyList<EpochRecord> history, int skip = 0)
    {
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn(new TableColumn("epoch").RightAligned());
        table.AddColumn(new TableColumn("lr").RightAligned());
        table.AddColumn(new TableColumn("train loss").RightAligned());
        table.AddColumn(new TableColumn("test loss").RightAligned());
        table.AddColumn(new TableColumn("test acc").RightAligned());
        table.AddColumn(new TableColumn("time").RightAligned());
        table.AddColumn(new TableColumn("samples/s").RightAligned());
        double best = double.NegativeInfinity;
        foreach (EpochRecord record in history)
        {
            best = Math.Max(best, record.TestAccuracy);
        }

        if (skip > 0)
        {
            table.AddRow(new Markup("[grey]…[/]"));
        }

        for (int i = skip; i < history.Count; i++)
        {
            EpochRecord r = history[i];
            string accuracy = r.TestAccuracy.ToString("F4", s_invariant);
            table.AddRow(
                r.Epoch.ToString(s_invariant),
                LearningRate(r.LearningRate),
                r.TrainLoss.ToString("F4", s_invariant),
                r.TestLoss.ToString("F4", s_invariant),
                r.TestAccuracy == best ? $"[bold green]{accuracy}[/]" : accuracy,
                r.Seconds.ToString("F1", s_invariant) + " s",
                r.SamplesPerSecond.ToString("N0", s_invariant));
        }

        return table;
    }

    /// <summary>One epoch as a plain line, for logs.</summary>
    public static string EpochLine(EpochRecord r, int epochs) => string.Create(s_invariant,
        $"epoch {r.Epoch}/{epochs}: train loss {r.TrainLoss:F4}, test loss {r.TestLoss:F4}, test accuracy {r.TestAccuracy:F4}, learning rate {LearningRate(r.LearningRate)}, {r.Seconds:F1} s ({r.SamplesPerSecond:N0} samples/s)");

    /// <summary>A learning rate with up to 5 decimals, in scientific notation below 0.001.</summary>
    public static string LearningRate(float value) =>
        value == 0f ? "0" : value.ToString(value >= 1e-3f ? "0.#####" : "0.000e+0", s_invariant);

    /// <summary>
    /// The confusion matrix, true classes down and predicted classes across (numbered as the rows), with each true
    /// class's accuracy (recall) on the right and each predicted class's precision at the bottom.
    /// </summary>
    public static Table ConfusionTable(ConfusionMatrix confusion, IReadOnlyList<string> classNames)
    {
        int classes = confusion.ClassCount;
        var table = new Table().Border(TableBorder.Simple).Title("confusion matrix (rows: true class, columns: predicted)");
        table.AddColumn(new TableColumn("true \\ pred.").NoWrap());
        for (int p = 0; p < classes; p++)
        {
            table.AddColumn(new TableColumn(p.ToString(s_invariant)).RightAligned().PadLeft(1).PadRight(0));
        }

        table.AddColumn(new TableColumn("accuracy").RightAligned().PadLeft(1));
        for (int label = 0; label < classes; label++)
        {
            long total = confusion.LabelCount(label);
            var cells = new List<IRenderable>(classes + 2) { new Text(ClassLabel(label, classNames)) };
            for (int p = 0; p < classes; p++)
            {
                long n = confusion[label, p];
                string text = n.ToString(s_invariant);
                cells.Add(new Markup(
                    p == label ? $"[bold green]{text}[/]"
                    : n == 0 ? "[grey]·[/]"
                    : n * 20 >= total ? $"[red]{text}[/]" // ≥ 5 % of the class goes here
                    : text));
            }

            cells.Add(new Text(Percent(confusion.ClassAccuracy(label))));
            table.AddRow(cells);
        }

        var precision = new List<IRenderable>(classes + 2) { new Markup("[italic]precision[/]") };
        for (int p = 0; p < classes; p++)
        {
            double value = confusion.Precision(p);
            precision.Add(new Text(double.IsNaN(value) ? "-" : (value * 100).ToString("F0", s_invariant)));
        }

        precision.Add(new Text(""));
        table.AddEmptyRow();
        table.AddRow(precision);
        table.Caption(string.Create(s_invariant, $"accuracy {Percent(confusion.Accuracy)} ({confusion.Correct}/{confusion.Total}); precision in %"));
        return table;
    }

    public static string ClassLabel(int label, IReadOnlyList<string> classNames) =>
        label < classNames.Count ? string.Create(s_invariant, $"{label} {classNames[label]}") : label.ToString(s_invariant);

    public static string Percent(double value) => double.IsNaN(value) ? "-" : (value * 100).ToString("F1", s_invariant) + " %";

    /// <summary>The class probabilities as a bar chart, the predicted class in green (red when wrong), the true class in yellow.</summary>
    public static BarChart ProbabilityChart(ReadOnlySpan<float> probabilities, IReadOnlyList<string> classNames, int predicted, int label)
    {
        var chart = new BarChart()
            .Width(60)
            .Label("class probabilities")
            .WithMaxValue(100)
            .UseValueFormatter(value => value.ToString("F1", s_invariant) + " %");
        for (int c = 0; c < probabilities.Length; c++)
        {
            Color color = c == predicted ? (c == label ? Color.Green : Color.Red) : c == label ? Color.Yellow : Color.Grey;
            string marker = c == predicted && c == label ? " ✓" : c == predicted ? " ✗" : c == label ? " (true)" : "";
            chart.AddItem(ClassLabel(c, classNames) + marker, probabilities[c] * 100.0, color);
        }

        return chart;
    }

    /// <summary>
    /// A grey image (values in [0, 1], row-major) drawn with half blocks: each character is two pixels, the upper one
    /// as foreground of '▀' and the lower one as background, so 28×28 pixels take 28 columns × 14 rows. Without
    /// ANSI colours (redirected output, NO_COLOR) the same cells are drawn with a ramp of characters by brightness.
    /// </summary>
    public static IRenderable Image(ReadOnlySpan<float> pixels, int height, int width, IReadOnlyCapabilities capabilities)
    {
        bool colors = capabilities.Ansi && capabilities.ColorSystem != ColorSystem.NoColors && capabilities.Unicode;
        if (!colors)
        {
            const string Ramp = " .:-=+*#%@";
            var text = new StringBuilder();
            for (int y = 0; y < height; y += 2)
            {
                for (int x = 0; x < width; x++)
                {
                    float top = pixels[y * width + x];
                    float bottom = y + 1 < height ? pixels[(y + 1) * width + x] : 0f;
                    int level = (int)Math.Round(Math.Clamp((top + bottom) / 2, 0f, 1f) * (Ramp.Length - 1));
                    text.Append(Ramp[level]);
                }

                text.Append('\n');
            }

            return new Text(text.ToString().TrimEnd('\n'));
        }

        var image = new Paragraph();
        for (int y = 0; y < height; y += 2)
        {
            for (int x = 0; x < width; x++)
            {
                Color top = Grey(pixels[y * width + x]);
                Color bottom = y + 1 < height ? Grey(pixels[(y + 1) * width + x]) : Color.Black;
                image.Append("▀", new Style(top, bottom));
            }

            if (y + 2 < height)
            {
                image.Append("\n");
            }
        }

        return image;
    }

    private static Color Grey(float value)
    {
        byte level = (byte)Math.Round(Math.Clamp(value, 0f, 1f) * 255);
        return new Color(level, level, level);
    }
}
