namespace NetGen.Generator.Layers;

/// <summary>
/// How a convolution's generated passes compute, chosen from its shapes alone. The rules live here once: the Conv2D
/// layer plans with them, and the benchmarks' runtime-shaped baseline links this file to make the same choices at run time.
/// </summary>
/// <param name="ConvolvesDirectly">
/// The forward pass reads each tap's rows straight from the (padded) input (<c>Convolution.Forward</c>) instead of unfolding
/// the input (im2col) and multiplying.
/// </param>
/// <param name="Compacts">
/// The direct forward pass first copies the input into planes of output-row width, one per (channel, kernel column), so that
/// a vector of output pixels runs on across rows narrower than a vector (<c>Convolution.ForwardCompacted</c>).
/// </param>
/// <param name="PadsInput">
/// Stride 1 or 2 with padding: the input is first copied into the middle of a zero-padded sample, whose rows every tap then
/// reads whole (with stride 2, every other float of them).
/// </param>
/// <param name="TransposesWeightGradient">
/// Where dL/dw is a product over the unfolded input, it is one product into a transposed buffer (see <see cref="Choose"/>).
/// </param>
/// <param name="DirectWeightGradient">
/// dL/dw is computed straight from the (padded or compacted) inputs of all the call's samples and dL/dy
/// (<c>Convolution.WeightGradient</c>), without unfolding them (see <see cref="Choose"/>).
/// </param>
/// <param name="CompactsWeightGradient">
/// The direct dL/dw reads compacted copies of the inputs (as <paramref name="Compacts"/> does for the forward pass) rather than
/// their rows.
/// </param>
/// <param name="DirectInputGradient">
/// dL/dx is the forward kernel (<c>Convolution.Forward</c>) run over dL/dy in zero-bordered planes with each kernel turned by
/// 180° and its filter and channel axes swapped, instead of the product wᵀ · dL/dy folded back (col2im).
/// </param>
/// <param name="CompactsInputGradient">That forward kernel for dL/dx compacts its input (<c>Convolution.ForwardCompacted</c>).</param>
/// <param name="WinogradInputGradient">
/// With <paramref name="DirectInputGradient"/>, that convolution of dL/dy with the turned weight computes by Winograd's
/// F(2×2, r×r) (<c>Winograd.Forward</c>, the turned weight transformed once per call) where <see cref="WinogradPays"/> for
/// it: filters and channels swapped.
/// </param>
/// <param name="SamplesPerProduct">
/// The unfolded forward pass multiplies this many samples' columns at once, side by side in one product, then copies each
/// sample's output planes out (see <see cref="Choose"/>); 1 otherwise.
/// </param>
/// <param name="CompactedSamples">
/// The compacting forward pass takes this many samples at once, their rows one after another in each compacted plane, so
/// that a vector of output pixels runs on from one sample into the next (see <see cref="Choose"/>); 1 otherwise.
/// </param>
/// <param name="CompactedInputGradientSamples">As <paramref name="CompactedSamples"/>, for the compacting kernel of a direct dL/dx.</param>
/// <param name="Winograd">
/// The inference form (and, in a network that does not train in stages, the shared forward pass) computes by Winograd's
/// F(2×2, 3×3) or F(2×2, 5×5) (<c>Winograd.Forward</c>) over a weight transformed whenever the parameters may have
/// changed: set only by <see cref="Conv2DLayer.InferenceForm"/>, where <see cref="WinogradPays"/>.
/// </param>
/// <param name="WinogradWeightGradient">
/// dL/dw computes by Winograd's F(r×r, 2×2) (<c>Winograd.AccumulateWeightGradient</c>, then <c>AddWeightGradient</c>) where
/// <see cref="WinogradPays"/> for the convolution, in place of <paramref name="DirectWeightGradient"/> and the product over the
/// unfolded input (which <paramref name="TransposesWeightGradient"/> still describes, for the benchmarks' baseline); each
/// product over <see cref="WinogradSamples"/> samples' tiles.
/// </param>
/// <param name="TransposesProduct">
/// The inference form's one-sample unfolded pass multiplies with pixels as rows: yᵀ = columnsᵀ · wᵀ, vectors of filters in
/// the register tiles, over the weight transposed whenever the parameters may have changed, then copies yᵀ out to the
/// planes. Set only by <see cref="Conv2DLayer.InferenceForm"/>, where <see cref="TransposedProductPays"/>.
/// </param>
/// <param name="ConvolvesDepthwise">
/// A depthwise convolution (groups = input channels) computed by <c>DepthwiseConvolution</c>, forward and backward, with no
/// unfold: one output plane's vectors of pixels in a register tile (see <see cref="ChooseGrouped"/>).
/// </param>
internal readonly record struct ConvolutionStrategy(bool ConvolvesDirectly, bool Compacts, bool PadsInput, bool TransposesWeightGradient, bool ConvolvesDepthwise = false,
    bool DirectWeightGradient = false, bool CompactsWeightGradient = false, bool DirectInputGradient = false, bool CompactsInputGradient = false,
    int SamplesPerProduct = 1, int CompactedSamples = 1, int CompactedInputGradientSamples = 1, bool Winograd = false, bool WinogradInputGradient = false,
    bool WinogradWeightGradient = false, bool TransposesProduct = false)
{
    /// <summary>
    /// Whether a one-sample unfolded forward pass is faster with pixels as rows (see <see cref="TransposesProduct"/>): one
    /// group, fewer than <see cref="SmallOutputPixels"/> output pixels (the passes that take several samples at once where
    /// they can), filters a multiple of 16, so that its vectors of filters are full at 8 and 16 lanes, and at least
    /// <see cref="TransposedProductRows"/> rows (input channel, kernel tap) to sum over. 49 pixels fill 4 vectors of 16 to
    /// 77 % as columns of the product, where as rows the filters fill every lane; the lanes won are a share of each sum,
    /// while copying yᵀ out costs the same per output however long the sums: a 3×3 kernel over 64 channels (576 rows)
    /// gains, a 1×1 over 64 (a stride-2 shortcut) loses. With 196 pixels (94 % as columns) it loses too
    /// (docs/benchmarks.md has the measurements).
    /// </summary>
    public static bool TransposedProductPays(int filters, int groups, int rows, int outputHeight, int outputWidth) =>
        groups == 1 && filters % WidestLanes == 0 && rows >= TransposedProductRows && (long)outputHeight * outputWidth < SmallOutputPixels;

    /// <summary>The fewest rows (input channel, kernel tap) a product with pixels as rows sums over (see <see cref="TransposedProductPays"/>).</summary>
    public const int TransposedProductRows = 256;

    /// <summary>
    /// Whether Winograd's F(2×2, 3×3) or F(2×2, 5×5) is faster than the direct kernel for a convolution: a square 3×3 or
    /// 5×5 kernel, stride 1, one group, and at least 32 input channels and 32 filters, each a multiple of 16. It does 2.25 ×
    /// (3×3) or 2.78 × (5×5) fewer multiply-adds in products of [tiles × channels] · [channels × filters], but transforms the
    /// input and the output on the way; with fewer channels or filters the products are too small to pay for that (3×3:
    /// 16 → 16 at 28×28 ran at 0.85 × the direct kernel's speed, 32 → 32 at 14×14 at 1.4 ×, 64 → 64 at 14×14 at 1.8 ×; 5×5:
    /// 32 → 64 at 14×14 at 1.8 ×; docs/benchmarks.md has the measurements).
    /// </summary>
    public static bool WinogradPays(int channels, int filters, int groups, int kernelHeight, int kernelWidth, int stride) =>
        groups == 1 && kernelHeight == kernelWidth && kernelHeight is 3 or 5 && stride == 1
        && channels >= 32 && filters >= 32 && channels % 16 == 0 && filters % 16 == 0;

    /// <summary>
    /// The samples whose tiles one Winograd product takes at once (forward, and dL/dw): 4 where an output has fewer than 32
    /// tiles of 2×2 (a 7×7 one has 16), so that each product reads the transformed weight (or adds to the sums) once for 4
    /// samples' rows; 1 otherwise.
    /// </summary>
    public static int WinogradSamples(int outputHeight, int outputWidth) => (long)((outputHeight + 1) / 2) * ((outputWidth + 1) / 2) < 32 ? 4 : 1;

    /// <summary>Output pixels below which an unfolded forward pass multiplies several samples at once.</summary>
    public const int SmallOutputPixels = 64;

    /// <summary>The samples an unfolded forward pass multiplies at once when its output is small (<see cref="SmallOutputPixels"/>).</summary>
    public const int SmallOutputSamples = 4;

    /// <summary>The largest stride the depthwise kernels take (with 2, a vector of outputs reads the even lanes of two loads).</summary>
    public const int DepthwiseMaxStride = 2;

    /// <summary>Lanes of the widest vector the kernels use (AVX-512): the compaction rule counts vectors of 16 floats.</summary>
    private const int WidestLanes = 16;

    /// <summary>
    /// The choices for a convolution of <paramref name="channels"/> input channels, a kernel of <paramref name="rows"/> taps per
    /// filter in all (channels × kh × kw), and an output of <paramref name="outputHeight"/> × <paramref name="outputWidth"/>.
    /// </summary>
    /// <remarks>
    /// <list type="bullet">
    /// <item>dL/dw transposed: with 16 filters or more and 64 unfolded rows or more, dL/dwᵀ = columns · dL/dyᵀ runs in the register
    /// tiles of the blocked product, its rows being whole vectors of filters. With fewer filters those vectors would be mostly
    /// empty; with few rows (a first layer's taps) the product is too short to pay for transposing dL/dy. Dot products along
    /// the pixels are faster then.</item>
    /// <item>Direct convolution: stride 1, and either a compacted copy that pays, or output rows that fill 60 % or more of the
    /// vectors they are cut into (at 8 and at 16 lanes) with an unfold that costs much next to the product: few filters to
    /// share it (16 or fewer), or an unfolded input larger than a core's L2 share (512 KB), which the product would read back
    /// from further out.</item>
    /// <item>dL/dw by Winograd's F(r×r, 2×2) wherever <see cref="WinogradPays"/> for the convolution (one group): 2.25 × (3×3)
    /// or 2.78 × (5×5) fewer multiply-adds, in products as long as a sample's tiles (docs/benchmarks.md has the measurements).
    /// Otherwise:</item>
    /// <item>Direct dL/dw: stride 1, kernels 3 or more columns wide, and dL/dw not transposed or with 16 filters or fewer. Its
    /// register tiles (4 filters × up to 5 kernel columns) load dL/dy and the input as vectors, which with 512-bit vectors
    /// mostly straddle cache lines; the transposed product broadcasts one operand, and with 64 filters or more (4 vectors of
    /// them per row) it is the faster (docs/benchmarks.md has the measurements).</item>
    /// <item>The direct dL/dw reads compacted copies where the forward pass compacts and the output rows fill less than 75 % of
    /// their vectors of 16: a copy of every sample is kernel-width times the input, and where rows fill their vectors well
    /// making it costs more than the lanes it fills (a 28-pixel row).</item>
    /// <item>Direct dL/dx: stride 1, a kernel larger than 1×1 (a 1×1 kernel's fold is a copy), dL/dx no more than 1.25 × the output's pixels (padding that keeps the size, about: a
    /// valid 5×5 convolution of a 10×10 output would sum twice the products, most of them over zeros), and either the rules above
    /// choosing the direct kernel for that convolution (filters and channels swapped, dL/dx's size as its output) or, in
    /// one group, <see cref="WinogradPays"/> for it (then by Winograd's F(2×2, r×r)).</item>
    /// <item>Samples per product: an unfolded forward pass (stride 1 or 2) of fewer than 64 output pixels multiplies 4 samples'
    /// columns side by side: 49 pixels fill 4 vectors of 16 to 77 %, 196 fill 13 to 94 %, and the product's tiles run 4 times
    /// as long per pass over the weight (docs/benchmarks.md has the measurements).</item>
    /// <item>Two samples per compacted copy where that fills the vectors of 16 better by 5 points or more: 7 × 7 pixels (3 × 3
    /// kernel) fill 4 vectors to 77 % one sample at a time, 7 vectors to 88 % two at a time (the second sample's pixels start
    /// (outputHeight + kernelHeight − 1) · outputWidth floats after the first's).</item>
    /// <item>Compaction: with 16 lanes, the vectors of multiply-adds it saves (output rows that end inside a vector) must be at
    /// least 4 × the vectors it copies.</item>
    /// </list>
    /// </remarks>
    public static ConvolutionStrategy Choose(
        int channels, int filters, int kernelHeight, int kernelWidth, int stride, int padding, int outputHeight, int outputWidth) =>
        Choose(channels, filters, kernelHeight, kernelWidth, stride, padding, outputHeight, outputWidth, oneGroup: true);

    private static ConvolutionStrategy Choose(
        int channels, int filters, int kernelHeight, int kernelWidth, int stride, int padding, int outputHeight, int outputWidth, bool oneGroup)
    {
        int rows = channels * kernelHeight * kernelWidth;
        (bool direct, bool compacts) = stride == 1 ? Direct(channels, filters, kernelHeight, kernelWidth, outputHeight, outputWidth) : (false, false);
        int inputHeight = outputHeight + kernelHeight - 1 - 2 * padding, inputWidth = outputWidth + kernelWidth - 1 - 2 * padding;
        bool turns = stride == 1 && kernelHeight * kernelWidth > 1 && inputHeight > 0 && inputWidth > 0 && 4L * inputHeight * inputWidth <= 5L * outputHeight * outputWidth;
        bool winogradDx = turns && oneGroup && WinogradPays(filters, channels, 1, kernelHeight, kernelWidth, 1);
        (bool directDx, bool compactsDx) = winogradDx ? (true, false)
            : turns ? Direct(filters, channels, kernelHeight, kernelWidth, inputHeight, inputWidth)
            : (false, false);
        bool transposes = filters >= 16 && rows >= 64;
        bool winogradDw = oneGroup && WinogradPays(channels, filters, 1, kernelHeight, kernelWidth, stride);
        bool directGradient = !winogradDw && stride == 1 && kernelWidth >= 3 && (!transposes || filters <= 16);
        bool compactsGradient = directGradient && compacts && outputWidth * 100 < 75 * ((outputWidth + WidestLanes - 1) / WidestLanes * WidestLanes);
        int samples = !direct && stride <= 2 && (long)outputHeight * outputWidth < SmallOutputPixels ? SmallOutputSamples : 1;
        return new ConvolutionStrategy(direct, compacts, stride <= 2 && padding > 0, transposes, DirectWeightGradient: directGradient,
            CompactsWeightGradient: compactsGradient, DirectInputGradient: directDx, CompactsInputGradient: directDx && compactsDx, SamplesPerProduct: samples,
            CompactedSamples: compacts ? CompactedSamplesFor(kernelHeight, outputHeight, outputWidth) : 1,
            CompactedInputGradientSamples: directDx && compactsDx ? CompactedSamplesFor(kernelHeight, inputHeight, inputWidth) : 1, WinogradInputGradient: winogradDx,
            WinogradWeightGradient: winogradDw);
    }

    /// <summary>Whether a stride-1 convolution of these sizes runs the direct kernel, and whether that kernel compacts its input (the rules of <see cref="Choose"/>).</summary>
    private static (bool Direct, bool Compacts) Direct(int channels, int filters, int kernelHeight, int kernelWidth, int outputHeight, int outputWidth)
    {
        int rows = channels * kernelHeight * kernelWidth;
        long pixels = (long)outputHeight * outputWidth;
        bool compacts = CompactionPays(channels, filters, rows, kernelHeight, kernelWidth, outputHeight, outputWidth);
        bool direct = compacts
            || (FillsLanes(outputWidth, 8) && FillsLanes(outputWidth, WidestLanes) && (filters <= 16 || rows * pixels * sizeof(float) > 512 * 1024));
        return (direct, compacts);
    }

    /// <summary>
    /// The choices for a convolution in <paramref name="groups"/> groups (PyTorch's <c>groups</c>) of <paramref name="channels"/>
    /// input channels and <paramref name="filters"/> filters in all, both divisible by <paramref name="groups"/>.
    /// </summary>
    /// <remarks>
    /// <list type="bullet">
    /// <item>One group: <see cref="Choose"/>, unchanged.</item>
    /// <item>Depthwise (one input channel per group) with stride 1 or 2: the depthwise kernels, which keep 8 vectors of one output
    /// plane in registers; the per-group product would have 1 row (the channel multiplier) and kh·kw taps, with 2 accumulators.</item>
    /// <item>Otherwise each group is a convolution of its own, channels/groups → filters/groups, run group after group over the
    /// slices of the input, weight and output: <see cref="Choose"/> for one group's sizes, one sample per product. Its unfold (im2col) is the whole
    /// layer's, one row block per input channel, so each group's product reads its own rows.</item>
    /// </list>
    /// </remarks>
    public static ConvolutionStrategy ChooseGrouped(
        int channels, int filters, int groups, int kernelHeight, int kernelWidth, int stride, int padding, int outputHeight, int outputWidth)
    {
        if (groups == 1)
        {
            return Choose(channels, filters, kernelHeight, kernelWidth, stride, padding, outputHeight, outputWidth);
        }

        if (channels == groups && stride <= DepthwiseMaxStride)
        {
            return new ConvolutionStrategy(ConvolvesDirectly: false, Compacts: false, PadsInput: padding > 0, TransposesWeightGradient: false, ConvolvesDepthwise: true);
        }

        // Each group's product is its own; their outputs are not side by side per sample.
        return Choose(channels / groups, filters / groups, kernelHeight, kernelWidth, stride, padding, outputHeight, outputWidth, oneGroup: false) with { SamplesPerProduct = 1, CompactedSamples = 1, CompactedInputGradientSamples = 1 };
    }

    private static bool CompactionPays(int channels, int filters, int rows, int kernelHeight, int kernelWidth, int outputHeight, int outputWidth)
    {
        int vectorsPerRow = (outputWidth + WidestLanes - 1) / WidestLanes;
        long pixels = (long)outputHeight * outputWidth;
        long saved = ((long)outputHeight * vectorsPerRow - (pixels + WidestLanes - 1) / WidestLanes) * filters * rows;
        long copied = (long)channels * kernelWidth * CompactedHeight(outputHeight, kernelHeight) * vectorsPerRow;
        return saved >= 4 * copied;
    }

    /// <summary>2 where two samples in one compacted copy fill the vectors of 16 lanes better by 5 points or more, else 1.</summary>
    private static int CompactedSamplesFor(int kernelHeight, int outputHeight, int outputWidth)
    {
        long pixels = (long)outputHeight * outputWidth, span = CompactedHeight(outputHeight, kernelHeight) * outputWidth + pixels;
        double one = (double)pixels / RoundUp(pixels), two = 2.0 * pixels / RoundUp(span);
        return two >= one + 0.05 ? 2 : 1;
    }

    private static long RoundUp(long floats) => (floats + WidestLanes - 1) / WidestLanes * WidestLanes;

    /// <summary>The input rows the compacted copy holds per plane: every row a tap reads.</summary>
    public static int CompactedHeight(int outputHeight, int kernelHeight) => outputHeight + kernelHeight - 1;

    private static bool FillsLanes(int width, int lanes) => width * 100 >= 60 * ((width + lanes - 1) / lanes * lanes);

    /// <summary>Whether output rows of this width fill 60 % or more of the vectors they are cut into, at 8 and at 16 lanes.</summary>
    public static bool RowsFillVectors(int width) => FillsLanes(width, 8) && FillsLanes(width, WidestLanes);
}

/// <summary>How a dense layer's generated passes compute, from its sizes alone (shared with the runtime-shaped baseline).</summary>
internal static class DenseStrategy
{
    /// <summary>Bytes of a weight above which it counts as larger than a core's L2 cache (1 MB on current x64 cores).</summary>
    public const long LargeWeightBytes = 1L << 20;

    /// <summary>
    /// Whether the forward pass computes a chunk of two samples or more as one product Yᵀ = W · Xᵀ + b, with the samples in
    /// the vector lanes: when W is larger than a core's L2. Dot products along the inputs (a single sample's way) read such a
    /// W from L3 for every 4 samples; the product reads it once per chunk. The two orders of summation differ in rounding, so
    /// such a layer's batch results match the single-sample calls to rounding, not bit for bit.
    /// </summary>
    public static bool MultipliesBatch(int units, int inputs) => StreamsLargeWeight(units, inputs);

    /// <summary>Whether the weight is larger than a core's L2 cache; it is read twice per chunk (forward, dL/dx).</summary>
    public static bool StreamsLargeWeight(int units, int inputs) => (long)units * inputs * sizeof(float) > LargeWeightBytes;
}

/// <summary>How many samples a batch call gives each worker at a time.</summary>
internal static class BatchChunking
{
    /// <summary>Samples per chunk: a batch of 64 spreads over 4 workers.</summary>
    public const int DefaultChunkSize = 16;

    /// <summary>
    /// Samples per chunk when a layer streams a weight larger than a core's L2 cache per chunk: larger chunks halve that
    /// traffic, which otherwise bounds those passes. Fixed by the network, not by the thread count, so results do not
    /// depend on the number of threads.
    /// </summary>
    public const int LargeWeightChunkSize = 32;

    public static int ChunkSize(bool streamsLargeWeight) => streamsLargeWeight ? LargeWeightChunkSize : DefaultChunkSize;
}
