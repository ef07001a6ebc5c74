using System;
using System.CommandLine;
using System.IO;
using ImageFolderSample;
using NetGen.Training;

// NetGen's image-folder sample: 'train <folder>' trains ShapesNet (ShapesNet.cs) on a folder with one subfolder of
// images per class and writes a model file; 'predict <model> <image>' prints the class of an image file.

var folder = new Argument<string>("folder") { Description = "The image folder: one subfolder of PNG/JPEG/… images per class." };
var output = new Option<string>("--output", "-o") { Description = "The model file to write.", DefaultValueFactory = _ => "model.safetensors" };
var epochs = new Option<int>("--epochs") { Description = "Passes over the training images.", DefaultValueFactory = _ => new TrainSettings().Epochs };
epochs.Validators.Add(result =>
{
    if (result.GetValueOrDefault<int>() < 1)
    {
        result.AddError("--epochs must be at least 1.");
    }
});
var seed = new Option<int>("--seed") { Description = "Seeds the parameters, the order and the augmentation.", DefaultValueFactory = _ => new TrainSettings().Seed };
var train = new Command("train", "Train ShapesNet on an image folder (every fifth image held out for validation) and save it.") { folder, output, epochs, seed };
train.SetAction(parse => Run(() =>
{
    TrainedModel model = ImageClassifier.Train(parse.GetValue(folder)!, parse.GetValue(output)!,
        new TrainSettings(Epochs: parse.GetValue(epochs), Seed: parse.GetValue(seed)),
        e => Console.WriteLine($"epoch {e.Epoch}/{e.Epochs}: loss {e.TrainingLoss:F4}, validation accuracy {e.Validation?.Accuracy:P1}"));
    Console.WriteLine($"{model.ClassNames.Count} classes ({string.Join(", ", model.ClassNames)}), {model.TrainCount} images trained on, "
        + $"{model.ValidationCount} held out: accuracy {model.ValidationAccuracy:P1}. Saved {parse.GetValue(output)}.");
}));

var model = new Argument<string>("model") { Description = "A model file written by 'train'." };
var image = new Argument<string>("image") { Description = "The image file to classify." };
var predict = new Command("predict", "Print the class of an image file.") { model, image };
predict.SetAction(parse => Run(() =>
{
    Prediction p = ImageClassifier.Predict(parse.GetValue(model)!, parse.GetValue(image)!);
    Console.WriteLine($"{p.ClassName} ({p.Probability:P1})");
}));

var root = new RootCommand("Train a NetGen network on a folder of images and classify image files with it.") { train, predict };
return root.Parse(args).Invoke();

// Expected failures (a missing or undecodable file, a folder without classes) are one line on stderr, not a stack trace.
static int Run(Action action)
{
    try
    {
        action();
        return 0;
    }
    catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or NonFiniteTrainingException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
}
