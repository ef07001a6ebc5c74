using System;
using System.Collections.Generic;
using System.Linq;
using ScottPlot;

namespace FashionMnist;

/// <summary>
/// The learning curve as a PNG (ScottPlot 5): train and test loss on the left axis, test accuracy on the right,
/// per epoch. ScottPlot (and SkiaSharp under it) is used in this file only, so that a NativeAOT build can leave it out.
/// </summary>
internal static class LearningCurvePlot
{
    public static void Save(string path, IReadOnlyList<EpochRecord> history, string title)
    {
        int n = history.Count;
        var epochs = new double[n];
        var trainLoss = new double[n];
        var testLoss = new double[n];
        var accuracy = new double[n];
        for (int i = 0; i < n; i++)
        {
            epochs[i] = history[i].Epoch;
            trainLoss[i] = history[i].TrainLoss;
            testLoss[i] = history[i].TestLoss;
            accuracy[i] = history[i].TestAccuracy;
        }

        var plot = new Plot();
        plot.Title(title, size: 13);
        plot.XLabel("epoch");
        plot.YLabel("loss");
        plot.Axes.Right.Label.Text = "test accuracy";

        var train = plot.Add.Scatter(epochs, trainLoss);
        train.LegendText = "train loss";
        train.MarkerSize = 7;
        train.LineWidth = 2;

        var test = plot.Add.Scatter(epochs, testLoss);
        test.LegendText = "test loss";
        test.MarkerSize = 7;
        test.LineWidth = 2;

        var acc = plot.Add.Scatter(epochs, accuracy);
        acc.LegendText = "test accuracy (right axis)";
        acc.MarkerSize = 7;
        acc.LineWidth = 2;
        acc.LinePattern = LinePattern.Dashed;
        acc.Axes.YAxis = plot.Axes.Right;

        // Whole epochs on the x axis, with a margin so that a single epoch still shows as a point; losses from 0;
        // accuracy over its own range, at least 0.1 wide, within [0, 1].
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Axes.SetLimitsX(0.5, n + 0.5);
        plot.Axes.SetLimitsY(0, Max(trainLoss, testLoss) * 1.1, plot.Axes.Left);
        (double low, double high) = (Min(accuracy), Max(accuracy));
        double middle = (low + high) / 2, half = Math.Max(0.05, (high - low) / 2 * 1.15);
        plot.Axes.SetLimitsY(Math.Max(0, middle - half), Math.Min(1, middle + half), plot.Axes.Right);
        plot.ShowLegend(Edge.Bottom); // outside the data area: never over a curve
        plot.SavePng(path, 1000, 600);
    }

    private static double Max(params double[][] series)
    {
        double max = 1e-6;
        foreach (double v in series.SelectMany(values => values))
        {
            max = double.IsFinite(v) ? Math.Max(max, v) : max;
        }

        return max;
    }

    private static double Min(double[] values)
    {
        double min = 1;
        foreach (double v in values)
        {
            min = double.IsFinite(v) ? Math.Min(min, v) : min;
        }

        return min;
    }
}
