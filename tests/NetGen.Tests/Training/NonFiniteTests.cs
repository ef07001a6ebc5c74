using System;
using System.Linq;
using NetGen.Optimizers;
using NetGen.Tests.Networks;
using NetGen.Training;
using Xunit;

namespace NetGen.Tests.Training;

public class NonFiniteTests
{
    [Fact]
    public void A_NaN_input_stops_training_at_its_step_and_the_weights_stay_those_of_the_last_good_step()
    {
        var net = new LeNet5 { DegreeOfParallelism = 2 };
        net.InitializeParameters(3);
        var sgd = new Sgd(0.01f);
        (float[] inputs, int[] labels) = BatchTests.Batch(16, 5);
        for (long step = 0; step < 3; step++)
        {
            float loss = net.TrainBatch(inputs, labels);
            NonFiniteGuard.Check(loss, net.Gradients, step);
            sgd.Step(net.Parameters, net.Gradients);
        }

        float[] good = net.Parameters.ToArray();
        inputs[100] = float.NaN; // one bad pixel
        var e = Assert.Throws<NonFiniteTrainingException>(() =>
        {
            float loss = net.TrainBatch(inputs, labels);
            NonFiniteGuard.Check(loss, net.Gradients, 3);
            sgd.Step(net.Parameters, net.Gradients);
        });
        Assert.Equal(3, e.Step);
        Assert.Contains("step 3", e.Message);
        Assert.Equal(good, net.Parameters);
    }

    [Fact]
    public void An_infinite_gradient_is_caught_even_with_a_finite_loss()
    {
        var gradients = new float[1000];
        gradients[777] = float.PositiveInfinity;
        var e = Assert.Throws<NonFiniteTrainingException>(() => NonFiniteGuard.Check(0.5f, gradients, 12));
        Assert.Contains("gradient 777 is ∞", e.Message.Replace("Infinity", "∞"));
        gradients[777] = 1e30f;
        NonFiniteGuard.Check(0.5f, gradients, 12); // large but finite is fine
    }
}
