using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace NetGen.Metrics;

/// <summary>
/// Counts of (true label, predicted class) pairs for a classifier with <see cref="ClassCount"/> classes: row =
/// true label, column = prediction. The diagonal holds the correct predictions.
/// </summary>
/// <example>
/// <code>
/// var predictions = new int[test.Count];
/// net.PredictBatch(test.Images, predictions);
/// var confusion = new ConfusionMatrix(classCount: 10);
/// for (int i = 0; i &lt; test.Count; i++)
/// {
///     confusion.Add(test.Labels[i], predictions[i]);
/// }
///
/// Console.WriteLine($"accuracy {confusion.Accuracy:F4}");
/// Console.WriteLine(confusion.ToString(FashionMnist.ClassNames));
/// </code>
/// </example>
public sealed class ConfusionMatrix
{
    private readonly long[] _counts;

    /// <summary>An empty matrix.</summary>
    /// <param name="classCount">Number of classes (≥ 1).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classCount"/> is below 1 or above 46 340.</exception>
    public ConfusionMatrix(int classCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(classCount, 46_340); // classCount² fits an int
        ClassCount = classCount;
        _counts = new long[classCount * classCount];
    }

    /// <summary>Number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>Number of samples added.</summary>
    public long Total { get; private set; }

    /// <summary>Number of samples added whose prediction was right.</summary>
    public long Correct { get; private set; }

    /// <summary>How many samples of class <paramref name="label"/> were predicted as <paramref name="predicted"/>.</summary>
    /// <param name="label">True class.</param>
    /// <param name="predicted">Predicted class.</param>
    public long this[int label, int predicted] => _counts[Index(label, predicted)];

    /// <summary>Counts one sample.</summary>
    /// <param name="label">Its true class, 0 ≤ label &lt; <see cref="ClassCount"/>.</param>
    /// <param name="predicted">The predicted class, 0 ≤ predicted &lt; <see cref="ClassCount"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A class index is out of range.</exception>
    public void Add(int label, int predicted)
    {
        _counts[Index(label, predicted)]++;
        Total++;
        if (label == predicted)
        {
            Correct++;
        }
    }

    /// <summary>Sets every count to zero.</summary>
    public void Clear()
    {
        Array.Clear(_counts);
        Total = 0;
        Correct = 0;
    }

    /// <summary>Fraction of samples predicted correctly; NaN when nothing was added.</summary>
    public double Accuracy => Total == 0 ? double.NaN : (double)Correct / Total;

    /// <summary>Number of samples whose true class is <paramref name="label"/> (a row sum).</summary>
    /// <param name="label">The class.</param>
    /// <returns>The row sum.</returns>
    public long LabelCount(int label)
    {
        long sum = 0;
        for (int p = 0; p < ClassCount; p++)
        {
            sum += _counts[Index(label, p)];
        }

        return sum;
    }

    /// <summary>
    /// Accuracy on class <paramref name="label"/> alone (its recall): correct predictions among the samples of
    /// that class; NaN when there were none.
    /// </summary>
    /// <param name="label">The class.</param>
    /// <returns>A fraction in [0, 1], or NaN.</returns>
    public double ClassAccuracy(int label)
    {
        long total = LabelCount(label);
        return total == 0 ? double.NaN : (double)_counts[Index(label, label)] / total;
    }

    /// <summary>
    /// The precision of class <paramref name="predicted"/>: the fraction of samples predicted as that class
    /// that really are; NaN when it was never predicted.
    /// </summary>
    /// <param name="predicted">The class.</param>
    /// <returns>A fraction in [0, 1], or NaN.</returns>
    public double Precision(int predicted)
    {
        long total = 0;
        for (int l = 0; l < ClassCount; l++)
        {
            total += _counts[Index(l, predicted)];
        }

        return total == 0 ? double.NaN : (double)_counts[Index(predicted, predicted)] / total;
    }

    /// <summary>The accuracy (recall) of every class, see <see cref="ClassAccuracy"/>.</summary>
    /// <returns>A new array of <see cref="ClassCount"/> fractions (NaN for a class without samples).</returns>
    public double[] PerClassAccuracy()
    {
        var result = new double[ClassCount];
        for (int c = 0; c < ClassCount; c++)
        {
            result[c] = ClassAccuracy(c);
        }

        return result;
    }

    /// <summary>The matrix as a text table with class indices as headers, plus per-class and overall accuracy.</summary>
    /// <returns>A multi-line table.</returns>
    public override string ToString() => ToString(null);

    /// <summary>
    /// The matrix as a text table: one row per true class (named by <paramref name="classNames"/> when given),
    /// one column per predicted class, then each class's accuracy, and the overall accuracy on the last line.
    /// </summary>
    /// <param name="classNames">Names indexed by class, or null for the indices.</param>
    /// <returns>A multi-line table.</returns>
    public string ToString(IReadOnlyList<string>? classNames)
    {
        CultureInfo inv = CultureInfo.InvariantCulture;
        string Name(int c) => classNames is not null && c < classNames.Count ? classNames[c] : c.ToString(inv);

        int nameWidth = "true \\ predicted".Length;
        long max = 0;
        for (int c = 0; c < ClassCount; c++)
        {
            nameWidth = Math.Max(nameWidth, Name(c).Length);
        }

        foreach (long n in _counts)
        {
            max = Math.Max(max, n);
        }

        int cell = Math.Max(max.ToString(inv).Length, ClassCount.ToString(inv).Length) + 1;
        var text = new StringBuilder();
        text.Append("true \\ predicted".PadRight(nameWidth));
        for (int p = 0; p < ClassCount; p++)
        {
            text.Append(p.ToString(inv).PadLeft(cell));
        }

        text.Append("  accuracy").AppendLine();
        for (int l = 0; l < ClassCount; l++)
        {
            text.Append(Name(l).PadRight(nameWidth));
            for (int p = 0; p < ClassCount; p++)
            {
                text.Append(_counts[Index(l, p)].ToString(inv).PadLeft(cell));
            }

            double a = ClassAccuracy(l);
            text.Append("  ").Append(double.IsNaN(a) ? "-" : a.ToString("P2", inv)).AppendLine();
        }

        text.Append(inv, $"accuracy {(Total == 0 ? "-" : Accuracy.ToString("P2", inv))} ({Correct}/{Total})");
        return text.ToString();
    }

    private int Index(int label, int predicted)
    {
        if ((uint)label >= (uint)ClassCount)
        {
            throw new ArgumentOutOfRangeException(nameof(label), label, string.Create(CultureInfo.InvariantCulture, $"Classes are 0..{ClassCount - 1}."));
        }

        if ((uint)predicted >= (uint)ClassCount)
        {
            throw new ArgumentOutOfRangeException(nameof(predicted), predicted, string.Create(CultureInfo.InvariantCulture, $"Classes are 0..{ClassCount - 1}."));
        }

        return label * ClassCount + predicted;
    }
}
