using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FashionMnist;

/// <summary>One row of the training table and one point of the learning curve.</summary>
internal sealed record EpochRecord(int Epoch, float LearningRate, double TrainLoss, double TestLoss, double TestAccuracy, double Seconds, double SamplesPerSecond);

/// <summary>
/// Shows training as it runs. On a terminal: a live progress bar per epoch (samples/s and running loss) under the
/// table of finished epochs. Redirected or without ANSI support (CI logs, files): one plain line per epoch.
/// </summary>
internal static class TrainingDisplay
{
    private const string LossKey = "loss";
    private const string RateKey = "rate";
    private static readonly long s_refreshTicks = Stopwatch.Frequency / 20;

    /// <summary>Runs the training and returns the records of its epochs, 1 to <paramref name="epochs"/>.</summary>
    /// <param name="console">Where to show progress.</param>
    /// <param name="epochs">Epochs to run.</param>
    /// <param name="samplesPerEpoch">Training samples per epoch.</param>
    /// <param name="train">
    /// Trains every epoch, calling the progress action after every step (samples done in the epoch, running loss; null when
    /// nothing shows it) and the epoch action with each finished epoch's record.
    /// </param>
    public static IReadOnlyList<EpochRecord> Run(IAnsiConsole console, int epochs, int samplesPerEpoch, Action<Action<int, double>?, Action<EpochRecord>> train)
    {
        var history = new List<EpochRecord>(epochs);
        IReadOnlyCapabilities capabilities = console.Profile.Capabilities;
        if (!(capabilities.Interactive && capabilities.Ansi))
        {
            train(null, record =>
            {
                history.Add(record);
                console.WriteLine(Rendering.EpochLine(record, epochs));
            });
            return history;
        }

        // The render hook runs on Spectre's refresh thread: give it immutable snapshots of the finished epochs.
        EpochRecord[] finished = [];
        console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(
                new TaskDescriptionColumn(),
                new ProgressBarColumn(),
                new PercentageColumn(),
                new TrainingStatsColumn(),
                new ElapsedTimeColumn(),
                new RemainingTimeColumn())
            .UseRenderHook((progress, _) =>
            {
                EpochRecord[] rows = finished;
                if (rows.Length == 0)
                {
                    return progress;
                }

                int shown = Math.Max(3, console.Profile.Height - 8); // keep the live region within the screen
                return new Rows(Rendering.EpochTable(rows, Math.Max(0, rows.Length - shown)), progress);
            })
            .Start(context =>
            {
                ProgressTask task = null!;
                Stopwatch clock = null!;
                long lastUpdate = 0;
                void StartEpoch(int epoch)
                {
                    task = context.AddTask(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch}/{epochs}"), maxValue: samplesPerEpoch);
                    clock = Stopwatch.StartNew();
                    lastUpdate = 0;
                }

                StartEpoch(1);
                train((done, loss) =>
                {
                    long now = clock.ElapsedTicks;
                    if (now - lastUpdate < s_refreshTicks && done < samplesPerEpoch)
                    {
                        return;
                    }

                    lastUpdate = now;
                    task.State.Update<double>(LossKey, _ => loss);
                    task.State.Update<double>(RateKey, _ => done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9));
                    task.Value = done;
                },
                record =>
                {
                    history.Add(record);
                    finished = [.. history];
                    task.Value = samplesPerEpoch;
                    task.StopTask();
                    context.Refresh();
                    if (record.Epoch < epochs)
                    {
                        StartEpoch(record.Epoch + 1);
                    }
                });
            });
        return history;
    }

    /// <summary>The running samples/s and loss of an epoch, from its task's state.</summary>
    private sealed class TrainingStatsColumn : ProgressColumn
    {
        protected override bool NoWrap => true;

        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
        {
            double rate = task.State.Get<double>(RateKey);
            double loss = task.State.Get<double>(LossKey);
            return rate == 0
                ? new Text("")
                : new Markup(string.Create(CultureInfo.InvariantCulture, $"[blue]{rate,7:N0} samples/s[/]  loss [bold]{loss:F4}[/]"));
        }
    }
}
