namespace NetGen.Kernels;

/// <summary>
/// A register tile's row count as a type: kernels take it as a generic argument, and the JIT compiles one copy of the tile
/// per count with the rows past it removed (<c>if (TRows.Count &gt; r)</c> is a constant there), so one method body serves
/// every tile size.
/// </summary>
internal interface IRowCount
{
    static abstract int Count { get; }
}

internal readonly struct One : IRowCount
{
    public static int Count => 1;
}

internal readonly struct Two : IRowCount
{
    public static int Count => 2;
}

internal readonly struct Four : IRowCount
{
    public static int Count => 4;
}

internal readonly struct Six : IRowCount
{
    public static int Count => 6;
}

internal readonly struct Eight : IRowCount
{
    public static int Count => 8;
}
