namespace NetGen.Data;

/// <summary>
/// What <see cref="ImageAugmentation"/> does to one sample: the crop's position in the padded image (torchvision's
/// <c>RandomCrop</c> offsets <c>i</c>, <c>j</c>), then whether the crop is mirrored left to right.
/// </summary>
/// <param name="HorizontalFlip">Whether the cropped image is mirrored (column j becomes column width − 1 − j).</param>
/// <param name="CropTop">
/// Row of the padded image that becomes row 0, from 0 to 2 × <see cref="ImageAugmentation.CropPadding"/>; the
/// padding itself (<see cref="ImageAugmentation.CropPadding"/>) leaves the image where it was.
/// </param>
/// <param name="CropLeft">Column of the padded image that becomes column 0, in the same range.</param>
public readonly record struct AugmentationChoice(bool HorizontalFlip, int CropTop, int CropLeft);
