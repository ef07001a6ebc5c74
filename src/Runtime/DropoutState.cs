namespace NetGen;

/// <summary>
/// Where a network's dropout masks are in their sequence: training call <see cref="Step"/> draws its masks from
/// (<see cref="Seed"/>, <see cref="Step"/>), whatever the thread count. <see cref="INeuralNetwork.InitializeParameters"/>
/// sets the seed to its own and the step to 0; each training call advances the step by one.
/// </summary>
/// <param name="Seed">The masks' seed.</param>
/// <param name="Step">The training call whose masks are drawn next, from 0.</param>
public readonly record struct DropoutState(int Seed, long Step);
