using System.Collections.Generic;
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
        plot.Title(title, size: 14);
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

        // Whole epochs on the x axis, with a margin so that a single epoch still shows as a point.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Axes.SetLimitsX(0.5, n + 0.5);
        plot.ShowLegend(Alignment.MiddleRight);
        plot.SavePng(path, 900, 550);
    }
}
