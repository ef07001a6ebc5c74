using System;
using NetGen.Metrics;
using Xunit;

namespace NetGen.Runtime.Tests.Metrics;

public sealed class ConfusionMatrixTests
{
    private static ConfusionMatrix Example()
    {
        // class 0: 3 samples, 2 right, 1 predicted as 2
        // class 1: 2 samples, 0 right, both predicted as 0
        // class 2: 1 sample, right
        var m = new ConfusionMatrix(3);
        m.Add(0, 0);
        m.Add(0, 2);
        m.Add(0, 0);
        m.Add(1, 0);
        m.Add(1, 0);
        m.Add(2, 2);
        return m;
    }

    [Fact]
    public void Counts_pairs_by_true_label_and_prediction()
    {
        ConfusionMatrix m = Example();

        Assert.Equal(2, m[0, 0]);
        Assert.Equal(1, m[0, 2]);
        Assert.Equal(2, m[1, 0]);
        Assert.Equal(0, m[0, 1]);
        Assert.Equal(1, m[2, 2]);
        Assert.Equal(6, m.Total);
        Assert.Equal(3, m.Correct);
        Assert.Equal(3, m.LabelCount(0));
    }

    [Fact]
    public void Accuracy_and_per_class_accuracy()
    {
        ConfusionMatrix m = Example();

        Assert.Equal(3.0 / 6.0, m.Accuracy, 12);
        Assert.Equal([2.0 / 3.0, 0.0, 1.0], m.PerClassAccuracy());
        Assert.Equal(2.0 / 4.0, m.Precision(0), 12);
        Assert.Equal(1.0 / 2.0, m.Precision(2), 12);
        Assert.True(double.IsNaN(m.Precision(1)));
    }

    [Fact]
    public void Empty_matrix_and_empty_classes_give_NaN()
    {
        var m = new ConfusionMatrix(2);
        Assert.True(double.IsNaN(m.Accuracy));

        m.Add(0, 1);
        Assert.Equal(0.0, m.Accuracy);
        Assert.True(double.IsNaN(m.ClassAccuracy(1)));
    }

    [Fact]
    public void Clear_resets_all_counts()
    {
        ConfusionMatrix m = Example();

        m.Clear();

        Assert.Equal(0, m.Total);
        Assert.Equal(0, m.Correct);
        Assert.Equal(0, m[0, 0]);
    }

    [Fact]
    public void Rejects_out_of_range_classes()
    {
        var m = new ConfusionMatrix(3);

        Assert.Throws<ArgumentOutOfRangeException>(() => m.Add(3, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.Add(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => m[0, 3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConfusionMatrix(0));
        Assert.Equal(0, m.Total);
    }

    [Fact]
    public void Per_class_queries_and_the_constructor_reject_out_of_range_arguments()
    {
        ConfusionMatrix m = Example();

        Assert.Equal("label", Assert.Throws<ArgumentOutOfRangeException>(() => m.LabelCount(3)).ParamName);
        Assert.Equal("label", Assert.Throws<ArgumentOutOfRangeException>(() => m.ClassAccuracy(-1)).ParamName);
        Assert.Equal("predicted", Assert.Throws<ArgumentOutOfRangeException>(() => m.Precision(3)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConfusionMatrix(46_341)); // classCount² would overflow an int
    }

    [Fact]
    public void ToString_renders_a_table_with_names_counts_and_accuracy()
    {
        ConfusionMatrix m = Example();

        string table = m.ToString(["cat", "dog", "bird"]);
        string[] lines = table.Split('\n', StringSplitOptions.TrimEntries);

        Assert.Equal(5, lines.Length);
        Assert.StartsWith("cat", lines[1], StringComparison.Ordinal);
        Assert.Equal(["cat", "2", "0", "1", "66.67", "%"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["dog", "2", "0", "0", "0.00", "%"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("50.00 %", lines[4], StringComparison.Ordinal);
        Assert.Contains("(3/6)", lines[4], StringComparison.Ordinal);
        Assert.StartsWith("0", m.ToString().Split('\n')[1], StringComparison.Ordinal);
    }
}
