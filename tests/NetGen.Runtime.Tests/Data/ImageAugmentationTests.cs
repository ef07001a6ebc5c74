using System;
using System.Linq;
using NetGen.Data;
using NetGen.Training;
using Xunit;

namespace NetGen.Runtime.Tests.Data;

public sealed class ImageAugmentationTests
{
    /// <summary>
    /// torchvision's RandomCrop(padding=p) then RandomHorizontalFlip, written from the definition: pad the image into a
    /// (height + 2p) × (width + 2p) canvas of fill, take the height × width window at (top, left), mirror it if flipped.
    /// </summary>
    private static float[] Reference(ReadOnlySpan<float> image, int channels, int height, int width, int padding, float fill, AugmentationChoice choice)
    {
        int paddedHeight = height + 2 * padding, paddedWidth = width + 2 * padding;
        var padded = new float[channels * paddedHeight * paddedWidth];
        Array.Fill(padded, fill);
        for (int c = 0; c < channels; c++)
        {
            for (int i = 0; i < height; i++)
            {
                for (int j = 0; j < width; j++)
                {
                    padded[(c * paddedHeight + i + padding) * paddedWidth + j + padding] = image[(c * height + i) * width + j];
                }
            }
        }

        var output = new float[channels * height * width];
        for (int c = 0; c < channels; c++)
        {
            for (int i = 0; i < height; i++)
            {
                for (int j = 0; j < width; j++)
                {
                    int column = choice.HorizontalFlip ? width - 1 - j : j;
                    output[(c * height + i) * width + j] = padded[(c * paddedHeight + i + choice.CropTop) * paddedWidth + column + choice.CropLeft];
                }
            }
        }

        return output;
    }

    /// <summary>Distinct, non-zero values, so that any misplaced pixel or padding shows.</summary>
    private static float[] Images(int count, int sampleLength)
    {
        var values = new float[count * sampleLength];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = 1f + i * 0.25f;
        }

        return values;
    }

    private static int[] Indices(int count, int seed)
    {
        int[] indices = Enumerable.Range(0, count).Select(i => i * 7 + 3).ToArray(); // data set indices, not batch places
        new SeededRandom(seed).Shuffle<int>(indices);
        return indices;
    }

    [Theory]
    [InlineData(1, 28, 28, true, 2, 0f)]
    [InlineData(3, 5, 7, true, 3, -0.4242f)]
    [InlineData(2, 4, 3, true, 6, 9f)] // padding larger than the image: some crops are all padding
    [InlineData(1, 6, 6, true, 0, 0f)] // flips only
    [InlineData(2, 6, 5, false, 2, 0.5f)] // crops only
    [InlineData(1, 1, 1, true, 1, -1f)]
    public void Matches_padding_cropping_and_flipping_written_from_the_definition(int channels, int height, int width, bool flip, int padding, float fill)
    {
        var augmentation = new ImageAugmentation(channels, height, width, flip, padding, fill);
        int length = channels * height * width, count = 300;
        float[] batch = Images(count, length);
        int[] indices = Indices(count, seed: 5);
        var destination = new float[batch.Length];

        augmentation.Apply(batch, indices, seed: 11, epoch: 3, destination);

        for (int k = 0; k < count; k++)
        {
            AugmentationChoice choice = augmentation.Choose(11, 3, indices[k]);
            float[] expected = Reference(batch.AsSpan(k * length, length), channels, height, width, padding, fill, choice);
            Assert.Equal(expected, destination.AsSpan(k * length, length).ToArray());
        }

        // The choices the test went through include flips and shifts both ways (the comparison is not vacuous).
        AugmentationChoice[] choices = indices.Select(i => augmentation.Choose(11, 3, i)).ToArray();
        Assert.Equal(flip, choices.Any(c => c.HorizontalFlip));
        Assert.Contains(choices, c => !c.HorizontalFlip);
        Assert.Equal(padding > 0, choices.Any(c => c.CropTop < padding) && choices.Any(c => c.CropLeft > padding));
        Assert.All(choices, c => Assert.InRange(c.CropTop, 0, 2 * padding));
        Assert.All(choices, c => Assert.InRange(c.CropLeft, 0, 2 * padding));
    }

    [Fact]
    public void Pads_with_the_fill_value_by_hand()
    {
        // A 2×2 image padded by 1 into a 4×4 canvas; the crop at (0, 0) keeps only the image's top-left pixel, at its
        // bottom right; the crop at (2, 2) keeps the bottom-right pixel at the top left.
        var augmentation = new ImageAugmentation(1, 2, 2, horizontalFlip: true, cropPadding: 1, fill: -7f);
        float[] image = [1f, 2f, 3f, 4f];
        int topLeft = FindSample(augmentation, c => c is { CropTop: 0, CropLeft: 0, HorizontalFlip: false });
        int topLeftFlipped = FindSample(augmentation, c => c is { CropTop: 0, CropLeft: 0, HorizontalFlip: true });
        int bottomRight = FindSample(augmentation, c => c is { CropTop: 2, CropLeft: 2, HorizontalFlip: false });
        int centre = FindSample(augmentation, c => c is { CropTop: 1, CropLeft: 1, HorizontalFlip: true });

        Assert.Equal([-7f, -7f, -7f, 1f], Augment(augmentation, image, topLeft));
        Assert.Equal([-7f, -7f, 1f, -7f], Augment(augmentation, image, topLeftFlipped));
        Assert.Equal([4f, -7f, -7f, -7f], Augment(augmentation, image, bottomRight));
        Assert.Equal([2f, 1f, 4f, 3f], Augment(augmentation, image, centre));

        static int FindSample(ImageAugmentation augmentation, Func<AugmentationChoice, bool> wanted) =>
            Enumerable.Range(0, 1000).First(i => wanted(augmentation.Choose(1, 0, i)));

        static float[] Augment(ImageAugmentation augmentation, float[] image, int sampleIndex)
        {
            var output = new float[image.Length];
            augmentation.Apply(image, [sampleIndex], seed: 1, epoch: 0, output);
            return output;
        }
    }

    [Fact]
    public void Leaves_the_batch_unchanged()
    {
        var augmentation = new ImageAugmentation(1, 8, 8);
        float[] batch = Images(50, 64);
        float[] copy = (float[])batch.Clone();

        augmentation.Apply(batch, Indices(50, 1), 1, 0, new float[batch.Length]);

        Assert.Equal(copy, batch);
    }

    [Fact]
    public void A_sample_gets_the_same_output_whatever_its_batch_place_or_the_batch_size()
    {
        var augmentation = new ImageAugmentation(2, 6, 6, cropPadding: 2);
        int length = augmentation.SampleLength, count = 40;
        float[] data = Images(count, length); // a data set: sample i at [i·length, (i+1)·length)
        float[] alone = AugmentEach(augmentation, data, count, seed: 9, epoch: 4);

        foreach (int batchSize in new[] { 1, 3, 7, 40 })
        {
            int[] order = Indices(count, seed: batchSize).Select(i => (i - 3) / 7).ToArray(); // a shuffle of 0 … count − 1
            for (int first = 0; first < count; first += batchSize)
            {
                int[] batch = order.Skip(first).Take(batchSize).ToArray();
                float[] inputs = batch.SelectMany(i => data.AsSpan(i * length, length).ToArray()).ToArray();
                var outputs = new float[inputs.Length];

                augmentation.Apply(inputs, batch, seed: 9, epoch: 4, outputs);

                for (int k = 0; k < batch.Length; k++)
                {
                    Assert.Equal(alone.AsSpan(batch[k] * length, length).ToArray(), outputs.AsSpan(k * length, length).ToArray());
                }
            }
        }
    }

    [Theory]
    [InlineData(1, 28, 28, 700)] // 548,800 floats: split among threads
    [InlineData(1, 8, 8, 9000)] // 576,000 floats in more than one round of indices
    public void Large_batches_give_the_same_bits_on_any_number_of_threads(int channels, int height, int width, int count)
    {
        var augmentation = new ImageAugmentation(channels, height, width, cropPadding: 3, fill: -0.5f);
        int length = augmentation.SampleLength;
        float[] batch = Images(count, length);
        int[] indices = Indices(count, seed: 2);
        float[] oneByOne = new float[batch.Length];
        for (int k = 0; k < count; k++)
        {
            augmentation.Apply(batch.AsMemory(k * length, length), indices.AsSpan(k, 1), 77, 1, oneByOne.AsMemory(k * length, length));
        }

        foreach (int threads in new[] { 1, 2, 3 })
        {
            augmentation.DegreeOfParallelism = threads;
            var destination = new float[batch.Length];

            augmentation.Apply(batch, indices, 77, 1, destination);

            Assert.Equal(oneByOne, destination);
        }
    }

    [Fact]
    public void Choices_depend_on_seed_epoch_and_index_only()
    {
        var a = new ImageAugmentation(1, 28, 28);
        var b = new ImageAugmentation(3, 32, 32); // another image size: the same choices
        const int Count = 2000;

        AugmentationChoice[] epoch0 = Enumerable.Range(0, Count).Select(i => a.Choose(5, 0, i)).ToArray();
        AugmentationChoice[] again = Enumerable.Range(0, Count).Select(i => b.Choose(5, 0, i)).ToArray();
        AugmentationChoice[] epoch1 = Enumerable.Range(0, Count).Select(i => a.Choose(5, 1, i)).ToArray();
        AugmentationChoice[] seed6 = Enumerable.Range(0, Count).Select(i => a.Choose(6, 0, i)).ToArray();

        Assert.Equal(epoch0, again);
        // Two draws agree with probability ½ · 1/5 · 1/5 = 2 %.
        Assert.InRange(epoch0.Zip(epoch1).Count(p => p.First == p.Second), 0, Count / 25);
        Assert.InRange(epoch0.Zip(seed6).Count(p => p.First == p.Second), 0, Count / 25);
    }

    [Fact]
    public void About_half_the_samples_are_flipped_and_the_offsets_are_uniform()
    {
        var augmentation = new ImageAugmentation(1, 28, 28, cropPadding: 2);
        const int Count = 100_000;
        int flipped = 0;
        var tops = new int[5];
        var lefts = new int[5];
        for (int i = 0; i < Count; i++)
        {
            AugmentationChoice c = augmentation.Choose(2024, 7, i);
            flipped += c.HorizontalFlip ? 1 : 0;
            tops[c.CropTop]++;
            lefts[c.CropLeft]++;
        }

        // Standard deviations: 158 flips, 126 per offset; the bounds are 6 of them.
        Assert.InRange(flipped, Count / 2 - 950, Count / 2 + 950);
        Assert.All(tops, n => Assert.InRange(n, Count / 5 - 760, Count / 5 + 760));
        Assert.All(lefts, n => Assert.InRange(n, Count / 5 - 760, Count / 5 + 760));
    }

    [Fact]
    public void Each_option_draws_the_same_numbers_whether_the_other_is_on_or_off()
    {
        var both = new ImageAugmentation(1, 10, 10, horizontalFlip: true, cropPadding: 2);
        var flipOnly = new ImageAugmentation(1, 10, 10, horizontalFlip: true, cropPadding: 0);
        var cropOnly = new ImageAugmentation(1, 10, 10, horizontalFlip: false, cropPadding: 2);

        for (int i = 0; i < 500; i++)
        {
            AugmentationChoice c = both.Choose(3, 2, i);
            Assert.Equal(new AugmentationChoice(c.HorizontalFlip, 0, 0), flipOnly.Choose(3, 2, i));
            Assert.Equal(c with { HorizontalFlip = false }, cropOnly.Choose(3, 2, i));
        }
    }

    [Fact]
    public void Without_flips_or_padding_it_copies()
    {
        var augmentation = new ImageAugmentation(3, 4, 5, horizontalFlip: false, cropPadding: 0);
        float[] batch = Images(10, 60);
        var destination = new float[batch.Length];

        augmentation.Apply(batch, Indices(10, 4), 1, 0, destination);

        Assert.Equal(batch, destination);
    }

    [Fact]
    public void Steady_state_calls_allocate_nothing()
    {
        var augmentation = new ImageAugmentation(1, 28, 28) { DegreeOfParallelism = 2 };
        float[] small = Images(64, 784), large = Images(400, 784);
        float[] smallOut = new float[small.Length], largeOut = new float[large.Length];
        int[] smallIndices = Indices(64, 1), largeIndices = Indices(400, 1);
        augmentation.Apply(small, smallIndices, 1, 0, smallOut);
        augmentation.Apply(large, largeIndices, 1, 0, largeOut); // starts the worker thread

        long callerBefore = GC.GetAllocatedBytesForCurrentThread(), workersBefore = WorkerThreads.AllocatedBytes;
        augmentation.Apply(small, smallIndices, 1, 1, smallOut);
        augmentation.Apply(large, largeIndices, 1, 1, largeOut);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - callerBefore + (WorkerThreads.AllocatedBytes - workersBefore);

        Assert.Equal(0, allocated);
    }

    [Theory]
    [InlineData(0, 28, 28, 2, 0f, "channels")]
    [InlineData(1, 0, 28, 2, 0f, "height")]
    [InlineData(1, 28, -1, 2, 0f, "width")]
    [InlineData(1, 28, 28, -1, 0f, "cropPadding")]
    [InlineData(1, 28, 28, int.MaxValue / 2 + 1, 0f, "cropPadding")]
    [InlineData(1, 28, 28, 2, float.NaN, "fill")]
    [InlineData(1, 28, 28, 2, float.NegativeInfinity, "fill")]
    public void The_constructor_rejects_bad_sizes_padding_and_fill(int channels, int height, int width, int padding, float fill, string parameter)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new ImageAugmentation(channels, height, width, true, padding, fill));

        Assert.Equal(parameter, e.ParamName);
    }

    [Fact]
    public void The_constructor_rejects_images_of_more_than_int_MaxValue_floats()
    {
        var e = Assert.Throws<ArgumentException>(() => new ImageAugmentation(3, 65536, 65536));

        Assert.Equal("width", e.ParamName);
        Assert.Contains("3×65536×65536", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_rejects_buffers_of_the_wrong_length_naming_what_was_expected()
    {
        var augmentation = new ImageAugmentation(1, 2, 2);
        int[] indices = [0, 1, 2];

        var shortBatch = Assert.Throws<ArgumentException>(() => augmentation.Apply(new float[11], indices, 1, 0, new float[12]));
        var longDestination = Assert.Throws<ArgumentException>(() => augmentation.Apply(new float[12], indices, 1, 0, new float[13]));

        Assert.Equal("batch", shortBatch.ParamName);
        Assert.Contains("batch has 11 floats; 3 samples (sampleIndices.Length) of 1×2×2 = 4 floats need 12", shortBatch.Message, StringComparison.Ordinal);
        Assert.Equal("destination", longDestination.ParamName);
        Assert.Contains("destination has 13 floats", longDestination.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_rejects_a_destination_that_overlaps_the_batch()
    {
        var augmentation = new ImageAugmentation(1, 2, 2);
        var buffer = new float[12];

        var inPlace = Assert.Throws<ArgumentException>(() => augmentation.Apply(buffer.AsMemory(0, 8), [0, 1], 1, 0, buffer.AsMemory(0, 8)));
        var shifted = Assert.Throws<ArgumentException>(() => augmentation.Apply(buffer.AsMemory(0, 8), [0, 1], 1, 0, buffer.AsMemory(4, 8)));

        Assert.Equal("destination", inPlace.ParamName);
        Assert.Equal("destination", shifted.ParamName);
        augmentation.Apply(buffer.AsMemory(0, 4), [0], 1, 0, buffer.AsMemory(4, 4)); // adjacent is fine
    }

    [Fact]
    public void Apply_rejects_a_negative_epoch_or_index_before_writing()
    {
        var augmentation = new ImageAugmentation(1, 2, 2);
        float[] batch = Images(2, 4);
        var destination = new float[8];

        var epoch = Assert.Throws<ArgumentOutOfRangeException>(() => augmentation.Apply(batch, [0, 1], 1, -1, destination));
        var index = Assert.Throws<ArgumentOutOfRangeException>(() => augmentation.Apply(batch, [0, -5], 1, 0, destination));
        var chosen = Assert.Throws<ArgumentOutOfRangeException>(() => augmentation.Choose(1, 0, -1));

        Assert.Equal("epoch", epoch.ParamName);
        Assert.Equal("sampleIndices", index.ParamName);
        Assert.Contains("sampleIndices[1] is -5", index.Message, StringComparison.Ordinal);
        Assert.Equal("sampleIndex", chosen.ParamName);
        Assert.Equal(new float[8], destination);
    }

    [Fact]
    public void DegreeOfParallelism_must_be_at_least_1()
    {
        var augmentation = new ImageAugmentation(1, 2, 2);

        Assert.Throws<ArgumentOutOfRangeException>(() => augmentation.DegreeOfParallelism = 0);
        Assert.Equal(Environment.ProcessorCount, augmentation.DegreeOfParallelism);
    }

    [Fact]
    public void An_empty_batch_is_fine()
    {
        new ImageAugmentation(1, 2, 2).Apply(ReadOnlyMemory<float>.Empty, [], 1, 0, Memory<float>.Empty);
    }

    private static float[] AugmentEach(ImageAugmentation augmentation, float[] data, int count, long seed, int epoch)
    {
        int length = augmentation.SampleLength;
        var output = new float[data.Length];
        for (int i = 0; i < count; i++)
        {
            augmentation.Apply(data.AsMemory(i * length, length), [i], seed, epoch, output.AsMemory(i * length, length));
        }

        return output;
    }
}
