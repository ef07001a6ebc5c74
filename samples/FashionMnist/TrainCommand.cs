using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using NetGen;
using NetGen.Data;
using NetGen.Optimizers;
using NetGen.Training;
using Spectre.Console;

namespace FashionMnist;

/// <summary>Everything a training run is given on the command line.</summary>
internal sealed record TrainSettings(
    string Network,
    int Epochs,
    int BatchSize,
    string Optimizer,
    float? LearningRate,
    float? Momentum,
    float? WeightDecay,
    string Schedule,
    int? StepSize,
    float Gamma,
    float WarmupEpochs,
    bool Augment,
    int Threads,
    int Seed,
    string? Data,
    int? Limit,
    string? Output);

/// <summary>The defaults of one flavour of the train options, for one network.</summary>
/// <param name="BatchSize">Default --batch-size.</param>
/// <param name="Optimizer">Default --optimizer.</param>
/// <param name="Epochs">Default --epochs.</param>
/// <param name="LearningRate">Default --lr with <paramref name="Optimizer"/>; null: the optimizer's own default.</param>
/// <param name="WeightDecay">Default --weight-decay with <paramref name="Optimizer"/>; null: the optimizer's own default.</param>
/// <param name="WarmupEpochs">Default --warmup.</param>
/// <param name="Augment">Default --augment.</param>
internal sealed record TrainDefaults(int BatchSize, string Optimizer, int Epochs,
    float? LearningRate = null, float? WeightDecay = null, float WarmupEpochs = 0f, bool Augment = false)
{
    /// <summary>Default --lr of sgd, momentum and nesterov.</summary>
    public const float SgdLearningRate = 0.01f;

    /// <summary>Default --lr of adam and adamw (PyTorch's).</summary>
    public const float AdamLearningRate = 1e-3f;

    /// <summary>The original sample, and the command without a subcommand: 1 epoch of per-sample SGD, lr 0.01, per-step cosine.</summary>
    public static readonly TrainDefaults PerSample = new(BatchSize: 1, Optimizer: "sgd", Epochs: 1);

    /// <summary>
    /// The 'train' command: 10 epochs of Adam on mini-batches of 64 on all cores, per-step cosine; LeNet-5 reaches 0.90
    /// test accuracy with it, and unlike momentum SGD at a rate tuned for LeNet-5 it also trains WideNet, and ResNet without
    /// batch normalization (its loss starts near 4.3, the residual sums growing the logits, and falls below 0.5 in the
    /// first epoch).
    /// </summary>
    public static readonly TrainDefaults Batch = new(BatchSize: 64, Optimizer: "adam", Epochs: 10);

    /// <summary>
    /// 'train --network resnet-bn': the usual recipe of residual networks with batch normalization (He et al.; the CIFAR
    /// recipes), sized to this machine. SGD with Nesterov momentum 0.9 on batches of 128, peak learning rate 0.1 reached
    /// by a linear warmup over the first epoch and annealed to 0 by a per-step cosine, weight decay 5e-4 on the kernels
    /// and the dense weight (not on biases or BatchNorm's γ and β), random crops after 2 pixels of black padding and
    /// random horizontal flips; 18 epochs.
    /// </summary>
    public static readonly TrainDefaults ResNetBN = new(BatchSize: 128, Optimizer: "nesterov", Epochs: 18,
        LearningRate: 0.1f, WeightDecay: 5e-4f, WarmupEpochs: 1f, Augment: true);

    /// <summary>The 'train' command's defaults for a network: its own recipe where it has one, else <see cref="Batch"/>.</summary>
    public static TrainDefaults ForTrainCommand(string network) =>
        network == NetworkCatalog.ResNetBNName ? ResNetBN : Batch;
}

/// <summary>The train options; one instance per command that offers them (the root command and 'train').</summary>
internal sealed class TrainOptions
{
    private static readonly string[] s_optimizers = ["sgd", "momentum", "nesterov", "adam", "adamw"];
    private static readonly string[] s_schedules = ["constant", "cosine", "step"];

    private readonly Option<string> _network = new("--network")
    {
        Description = "The network to train: lenet5 (LeNet-5), widenet (TensorFlow's two-convolution tutorial network), resnet (three residual blocks), "
            + "resnet-bn (three residual blocks with batch normalization, global average pooling; its own training recipe, see the defaults).",
        DefaultValueFactory = _ => NetworkCatalog.LeNet5Name,
    };

    private readonly Option<int?> _epochs = new("--epochs");
    private readonly Option<int?> _batchSize = new("--batch-size");
    private readonly Option<string?> _optimizer = new("--optimizer");
    private readonly Option<float?> _learningRate = new("--lr", "--learning-rate");
    private readonly Option<float?> _momentum = new("--momentum") { Description = "SGD momentum μ. [default: 0 for sgd, 0.9 for momentum and nesterov]" };
    private readonly Option<float?> _weightDecay = new("--weight-decay");
    private readonly Option<float?> _warmup = new("--warmup");
    private readonly Option<bool?> _augment = new("--augment");
    private readonly Option<string> _schedule = new("--schedule")
    {
        Description = "Learning rate over the run: constant, cosine (annealed to 0 at every step) or step (× --gamma every --step-size epochs).",
        DefaultValueFactory = _ => "cosine",
    };

    private readonly Option<int?> _stepSize = new("--step-size") { Description = "Epochs between decays of --schedule step [default: a third of --epochs]." };
    private readonly Option<float> _gamma = new("--gamma") { Description = "Decay factor of --schedule step.", DefaultValueFactory = _ => 0.1f };
    private readonly Option<int> _threads = Cli.ThreadsOption();
    private readonly Option<int> _seed = new("--seed") { Description = "Seed of the initial weights and of the shuffles.", DefaultValueFactory = _ => 1 };
    private readonly Option<string?> _data = Cli.DataOption();
    private readonly Option<int?> _limit = new("--limit") { Description = "Train on the first N training images only." };
    private readonly Option<string?> _output = new("--output", "-o") { Description = "Weights file to write; the learning curve goes to <output>.png [default: <network>.safetensors]." };

    private readonly Func<string, TrainDefaults> _defaults;

    /// <param name="defaults">The defaults for each network (the options without a value take them).</param>
    /// <param name="resnetBN">The defaults of resnet-bn where they differ from the others', for the help text; null when all networks share them.</param>
    public TrainOptions(Func<string, TrainDefaults> defaults, TrainDefaults? resnetBN)
    {
        _defaults = defaults;
        TrainDefaults common = defaults(NetworkCatalog.LeNet5Name);
        string Default(object value, Func<TrainDefaults, object?> ofBN) =>
            resnetBN is null ? $" [default: {Format(value)}]" : $" [default: {Format(value)}; {Format(ofBN(resnetBN))} for resnet-bn]";
        _epochs.Description = $"Passes over the training set.{Default(common.Epochs, d => d.Epochs)}";
        _batchSize.Description = $"Samples per optimizer step; 1 is per-sample SGD, larger batches run on --threads cores.{Default(common.BatchSize, d => d.BatchSize)}";
        _optimizer.Description = $"sgd, momentum (SGD, μ 0.9), nesterov (μ 0.9), adam or adamw (PyTorch's updates).{Default(common.Optimizer, d => d.Optimizer)}";
        _learningRate.Description = string.Create(CultureInfo.InvariantCulture,
            $"Initial learning rate, the peak after a --warmup. [default: {TrainDefaults.SgdLearningRate} for sgd, momentum and nesterov; {TrainDefaults.AdamLearningRate} for adam and adamw")
            + (resnetBN is null ? "]" : string.Create(CultureInfo.InvariantCulture, $"; {resnetBN.LearningRate} for resnet-bn with its {resnetBN.Optimizer}]"));
        _weightDecay.Description = "Weight decay of the kernels and dense weights (not of biases or BatchNorm's γ and β): L2 for sgd/momentum/nesterov/adam, decoupled for adamw. [default: 0; 0.01 for adamw"
            + (resnetBN is null ? "]" : string.Create(CultureInfo.InvariantCulture, $"; {resnetBN.WeightDecay} for resnet-bn with its {resnetBN.Optimizer}]"));
        _warmup.Description = $"Epochs (may be fractional) of linear learning-rate warmup from near 0 to --lr before the --schedule, which then runs over the remaining steps.{Default(common.WarmupEpochs, d => d.WarmupEpochs)}";
        _augment.Description = "Random crop after 2 pixels of black padding and random horizontal flip of each training image, drawn anew each epoch from --seed; "
            + $"--augment false to turn it off.{Default(common.Augment ? "on" : "off", d => d.Augment ? "on" : "off")}";
        _network.AcceptOnlyFromAmong(NetworkCatalog.Names);
        _optimizer.AcceptOnlyFromAmong(s_optimizers);
        _schedule.AcceptOnlyFromAmong(s_schedules);
        Cli.AtLeast(_epochs, 1);
        Cli.AtLeast(_batchSize, 1);
        Cli.AtLeast(_stepSize, 1);
        Cli.AtLeast(_limit, 1);
        Cli.NonNegative(_learningRate);
        Cli.NonNegative(_momentum);
        Cli.NonNegative(_weightDecay);
        Cli.NonNegative(_warmup);
        _gamma.Validators.Add(result =>
        {
            if (!(result.GetValueOrDefault<float>() is float g && g >= 0f && float.IsFinite(g)))
            {
                result.AddError("--gamma must be a finite number ≥ 0.");
            }
        });
    }

    public void AddTo(Command command)
    {
        foreach (Option option in (Option[])[_network, _epochs, _batchSize, _optimizer, _learningRate, _momentum, _weightDecay,
                     _schedule, _warmup, _stepSize, _gamma, _augment, _threads, _seed, _data, _limit, _output])
        {
            command.Options.Add(option);
        }
    }

    /// <summary>
    /// The settings, each option without a value taking the network's default. A network's own --lr and --weight-decay
    /// go with its own optimizer: with another --optimizer they are that optimizer's defaults.
    /// </summary>
    public TrainSettings Bind(ParseResult parse)
    {
        string network = parse.GetValue(_network)!;
        TrainDefaults defaults = _defaults(network);
        string optimizer = parse.GetValue(_optimizer) ?? defaults.Optimizer;
        bool ownOptimizer = optimizer == defaults.Optimizer;
        return new(
            network,
            parse.GetValue(_epochs) ?? defaults.Epochs,
            parse.GetValue(_batchSize) ?? defaults.BatchSize,
            optimizer,
            parse.GetValue(_learningRate) ?? (ownOptimizer ? defaults.LearningRate : null),
            parse.GetValue(_momentum),
            parse.GetValue(_weightDecay) ?? (ownOptimizer ? defaults.WeightDecay : null),
            parse.GetValue(_schedule)!,
            parse.GetValue(_stepSize),
            parse.GetValue(_gamma),
            parse.GetValue(_warmup) ?? defaults.WarmupEpochs,
            parse.GetValue(_augment) ?? defaults.Augment,
            parse.GetValue(_threads),
            parse.GetValue(_seed),
            parse.GetValue(_data),
            parse.GetValue(_limit),
            parse.GetValue(_output));
    }

    private static string Format(object? value) => value switch
    {
        float f => f.ToString(CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value?.ToString() ?? "",
    };
}

/// <summary>
/// 'train' (and the command without a subcommand): trains a network on Fashion-MNIST, shows per-epoch progress and a
/// table of epochs, writes the weights with their input statistics and a learning-curve PNG.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var options = new TrainOptions(TrainDefaults.ForTrainCommand, TrainDefaults.ResNetBN);
        var command = new Command("train", "Train a network on Fashion-MNIST with mini-batches on all cores (default: 10 epochs of Adam); write its weights and learning curve.");
        options.AddTo(command);
        command.SetAction((parse, cancellation) => RunAsync(options.Bind(parse), cancellation));
        return command;
    }

    /// <summary>Without a subcommand the sample does what it always did: 1 epoch of per-sample SGD on LeNet-5.</summary>
    public static void ConfigureRoot(RootCommand root)
    {
        var options = new TrainOptions(_ => TrainDefaults.PerSample, resnetBN: null);
        options.AddTo(root);
        root.SetAction((parse, cancellation) => RunAsync(options.Bind(parse), cancellation));
    }

    /// <summary>
    /// Runs on the thread pool: System.CommandLine watches for Ctrl+C only once the action has returned its task, and
    /// then cancels <paramref name="cancellation"/>, which the training loop checks before every step.
    /// </summary>
    private static Task<int> RunAsync(TrainSettings settings, CancellationToken cancellation) =>
        Task.Run(() => Run(AnsiConsole.Console, settings, cancellation), CancellationToken.None);

    public static int Run(IAnsiConsole console, TrainSettings settings, CancellationToken cancellation)
    {
        if (!TryCreateOptimizer(settings, out IOptimizer? optimizer, out string? optimizerText, out string? problem))
        {
            return Cli.Fail(console, problem);
        }

        string output = settings.Output ?? settings.Network + ".safetensors";
        string? folder = Path.GetDirectoryName(Path.GetFullPath(output));
        if (folder is not null && !Directory.Exists(folder))
        {
            return Cli.Fail(console, $"--output {output}: the folder {folder} does not exist.");
        }

        try
        {
            return Train(console, settings, optimizer, optimizerText, output, cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            console.MarkupLineInterpolated($"[yellow]Interrupted; {output} was not written.[/]");
            return 130;
        }
        catch (Exception e) when (Cli.IsExpected(e))
        {
            return Cli.Fail(console, e.Message);
        }
    }

    private static int Train(IAnsiConsole console, TrainSettings settings, IOptimizer optimizer, string optimizerText, string output, CancellationToken cancellation)
    {
        string? directory = SampleData.Locate(console, settings.Data);
        if (directory is null)
        {
            return 1;
        }

        LabeledImages train = FashionMnistFiles.LoadTrain(directory);
        LabeledImages test = FashionMnistFiles.LoadTest(directory);
        if (settings.Limit is int limit && limit < train.Count)
        {
            train = train.Subset(0, limit);
        }

        // Standardize with the training set's statistics (Fashion-MNIST: mean ≈ 0.286, std ≈ 0.353); saved with the weights.
        (float mean, float std) = train.ComputeMeanAndStandardDeviation();
        train.Normalize(mean, std);
        test.Normalize(mean, std);

        INetwork network = NetworkCatalog.Create(settings.Network);
        network.InitializeParameters(settings.Seed);
        network.DegreeOfParallelism = settings.Threads;
        int batchSize = Math.Min(settings.BatchSize, train.Count);
        string schedule = settings.Schedule switch
        {
            "step" => string.Create(CultureInfo.InvariantCulture, $"step ×{settings.Gamma} every {StepSize(settings)} epochs"),
            _ => settings.Schedule,
        };
        if (settings.WarmupEpochs > 0f)
        {
            schedule = string.Create(CultureInfo.InvariantCulture, $"{settings.WarmupEpochs}-epoch warmup, {schedule}");
        }

        string how = string.Create(CultureInfo.InvariantCulture,
            $"{(batchSize == 1 ? "per-sample" : $"batches of {batchSize}")}, {optimizerText}, {schedule} schedule{(settings.Augment ? ", crop (pad 2) and flip augmentation" : "")}, seed {settings.Seed}");
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{train.Count} training and {test.Count} test images from {directory}."));
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{NetworkCatalog.DisplayName(settings.Network)}, {settings.Epochs} epoch(s), {how}; {(batchSize == 1 ? "training on one thread, evaluating" : "running")} on {settings.Threads} thread(s)."));
        console.WriteLine(NetworkCatalog.Summary(settings.Network));

        int stepsPerEpoch = (int)(((long)train.Count + batchSize - 1) / batchSize);
        long totalSteps = (long)settings.Epochs * stepsPerEpoch;
        long warmupSteps = (long)Math.Round(settings.WarmupEpochs * (double)stepsPerEpoch, MidpointRounding.AwayFromZero);
        var plan = new LearningRatePlan(ParseSchedule(settings.Schedule), optimizer.LearningRate, stepsPerEpoch, totalSteps, StepSize(settings), settings.Gamma, warmupSteps);
        SetWeightDecayMask(optimizer, network);

        // Black, the padding of torchvision's RandomCrop before Normalize, in the standardized pixel space.
        ImageAugmentation? augmentation = settings.Augment
            ? new ImageAugmentation(train.Channels, train.Height, train.Width, horizontalFlip: true, cropPadding: 2, fill: -mean / std)
            {
                DegreeOfParallelism = settings.Threads,
            }
            : null;
        var options = new TrainerOptions
        {
            Epochs = settings.Epochs,
            BatchSize = batchSize,
            Seed = settings.Seed,
            Schedule = plan,
            Augmentation = augmentation,
        };

        // The test set is the validation data: its loss and accuracy after every epoch make the table and the plot.
        IReadOnlyList<EpochRecord> history = TrainingDisplay.Run(console, settings.Epochs, train.Count, (progress, epochDone) =>
            Trainer.Fit(network, optimizer, train, test, options with
            {
                OnBatch = progress is null ? null : step => progress(step.EpochSamples, step.MeanLoss),
                OnEpoch = epoch => epochDone(new EpochRecord(epoch.Epoch, epoch.LearningRate, epoch.TrainingLoss,
                    epoch.Validation!.Value.Loss, epoch.Validation.Value.Accuracy, epoch.TrainingTime.TotalSeconds, epoch.SamplesPerSecond)),
            }, cancellation));

        EpochRecord last = history[^1];
        console.Write(Rendering.EpochTable(history));
        ModelFile.Save(output, network, new ModelInfo(settings.Network, mean, std, settings.Epochs, last.TestAccuracy, $"{how}, {train.Count} images"));
        string plot = output + ".png";
        try
        {
            LearningCurvePlot.Save(plot, history, $"{NetworkCatalog.DisplayName(settings.Network)} on Fashion-MNIST ({train.Count} training images)\n{how}");
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or IOException or UnauthorizedAccessException)
        {
            // SkiaSharp's native library is the most fragile dependency; the weights are saved either way.
            console.MarkupLineInterpolated($"[yellow]The learning curve was not written: {e.Message}[/]");
            plot = "(none)";
        }

        console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"test accuracy [bold]{last.TestAccuracy:F4}[/] ({test.Count} images); weights [blue]{output}[/], learning curve [blue]{plot}[/]");
        return 0;
    }

    /// <summary>Weight decay on the kernels and dense weights only, as PyTorch recipes do: not on biases, nor on BatchNorm's γ and β.</summary>
    private static void SetWeightDecayMask(IOptimizer optimizer, INetwork network)
    {
        switch (optimizer)
        {
            case Sgd { WeightDecay: > 0f } sgd:
                sgd.WeightDecayMask = WeightDecayMask.MatricesAndKernels(network.ParameterLayout);
                break;
            case Adam { WeightDecay: > 0f } adam:
                adam.WeightDecayMask = WeightDecayMask.MatricesAndKernels(network.ParameterLayout);
                break;
        }
    }

    private static int StepSize(TrainSettings settings) => settings.StepSize ?? Math.Max(1, settings.Epochs / 3);

    private static ScheduleKind ParseSchedule(string schedule) => schedule switch
    {
        "cosine" => ScheduleKind.Cosine,
        "step" => ScheduleKind.Step,
        _ => ScheduleKind.Constant,
    };

    /// <summary>The optimizer the options describe, or why they do not describe one.</summary>
    private static bool TryCreateOptimizer(TrainSettings settings,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IOptimizer? optimizer,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? description,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? problem)
    {
        optimizer = null;
        description = null;
        problem = null;
        string kind = settings.Optimizer;
        bool adam = kind is "adam" or "adamw";
        if (adam && settings.Momentum is not null)
        {
            problem = "--momentum applies to sgd, momentum and nesterov; Adam's β1 is 0.9.";
            return false;
        }

        float lr = settings.LearningRate ?? (adam ? TrainDefaults.AdamLearningRate : TrainDefaults.SgdLearningRate);
        float momentum = settings.Momentum ?? (kind is "momentum" or "nesterov" ? 0.9f : 0f);
        float weightDecay = settings.WeightDecay ?? (kind == "adamw" ? 0.01f : 0f);
        if (kind == "nesterov" && momentum == 0f)
        {
            problem = "nesterov needs a --momentum above 0.";
            return false;
        }

        optimizer = kind switch
        {
            "adam" => new Adam(lr, weightDecay: weightDecay),
            "adamw" => Adam.AdamW(lr, weightDecay: weightDecay),
            _ => new Sgd(lr, momentum, nesterov: kind == "nesterov", weightDecay: weightDecay),
        };
        string name = kind switch
        {
            "adam" => "Adam",
            "adamw" => "AdamW",
            "nesterov" => string.Create(CultureInfo.InvariantCulture, $"SGD with Nesterov momentum {momentum}"),
            _ when momentum != 0f => string.Create(CultureInfo.InvariantCulture, $"SGD with momentum {momentum}"),
            _ => "SGD",
        };
        description = string.Create(CultureInfo.InvariantCulture,
            $"{name}, learning rate {lr}{(weightDecay != 0f ? $", weight decay {weightDecay}" : "")}");
        return true;
    }
}
