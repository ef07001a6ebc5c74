using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace NetGen.Runtime.Tests.Fuzzing;

/// <summary>
/// Deterministic random mutations of byte arrays for one fuzz case. Everything drawn comes from a
/// <see cref="System.Random"/> seeded with <see cref="Seed"/>, so a case is reproduced by its seed alone; every
/// mutation is logged in <see cref="Description"/> for the failure message.
/// </summary>
internal sealed class Mutator
{
    /// <summary>Bytes that tend to matter to binary and JSON parsers.</summary>
    private static readonly byte[] InterestingBytes =
    [
        0x00, 0x01, 0x02, 0x03, 0x07, 0x08, 0x09, 0x0D, 0x1F, 0x20, 0x7F, 0x80, 0x8B, 0xC3, 0xFE, 0xFF,
        (byte)'"', (byte)'{', (byte)'}', (byte)'[', (byte)']', (byte)',', (byte)':', (byte)'0', (byte)'9', (byte)'-', (byte)'\\',
    ];

    private readonly List<string> _steps = [];

    public Mutator(int seed)
    {
        Seed = seed;
        Random = new Random(seed);
    }

    public int Seed { get; }

    public Random Random { get; }

    /// <summary>The mutations applied so far, in order.</summary>
    public string Description
    {
        get
        {
            lock (_steps)
            {
                return _steps.Count == 0 ? "(no mutation)" : string.Join("; ", _steps);
            }
        }
    }

    public void Note(string step)
    {
        lock (_steps)
        {
            _steps.Add(step);
        }
    }

    /// <summary>An integer in [min, max], both included.</summary>
    public int Between(int min, int max) => Random.Next(min, max + 1);

    public bool Chance(double probability) => Random.NextDouble() < probability;

    public T Pick<T>(IReadOnlyList<T> items) => items[Random.Next(items.Count)];

    public byte RandomByte() => Chance(0.5) ? Pick(InterestingBytes) : (byte)Random.Next(256);

    /// <summary>One generic mutation: bit flip, byte overwrite, truncation, insertion, deletion or duplication of a run.</summary>
    /// <param name="bytes">Not modified.</param>
    /// <param name="what">Names the mutated bytes in the log (e.g. "file", "gzip").</param>
    /// <returns>A new array.</returns>
    public byte[] MutateBytes(byte[] bytes, string what) => Random.Next(7) switch
    {
        0 or 1 => FlipBit(bytes, what),
        2 => Overwrite(bytes, what),
        3 => Truncate(bytes, what),
        4 => InsertRun(bytes, what),
        5 => DeleteRun(bytes, what),
        _ => DuplicateRun(bytes, what),
    };

    public byte[] FlipBit(byte[] bytes, string what)
    {
        if (bytes.Length == 0)
        {
            return InsertRun(bytes, what);
        }

        int at = Random.Next(bytes.Length), bit = Random.Next(8);
        byte[] result = (byte[])bytes.Clone();
        result[at] ^= (byte)(1 << bit);
        Note(Invariant($"{what}: flip bit {bit} of byte {at} ({bytes[at]:X2} → {result[at]:X2})"));
        return result;
    }

    public byte[] Overwrite(byte[] bytes, string what)
    {
        if (bytes.Length == 0)
        {
            return InsertRun(bytes, what);
        }

        int at = Random.Next(bytes.Length);
        int count = Math.Min(Between(1, 4), bytes.Length - at);
        byte[] result = (byte[])bytes.Clone();
        for (int i = 0; i < count; i++)
        {
            result[at + i] = RandomByte();
        }

        Note(Invariant($"{what}: overwrite {count} byte(s) at {at} with {Hex(result.AsSpan(at, count))}"));
        return result;
    }

    public byte[] Truncate(byte[] bytes, string what)
    {
        if (bytes.Length == 0)
        {
            return InsertRun(bytes, what);
        }

        // Half the time anywhere, half the time just short of the end.
        int length = Chance(0.5) ? Random.Next(bytes.Length) : bytes.Length - Between(1, Math.Min(bytes.Length, 8));
        Note(Invariant($"{what}: truncate {bytes.Length} → {length} bytes"));
        return bytes[..length];
    }

    public byte[] InsertRun(byte[] bytes, string what)
    {
        int at = Random.Next(bytes.Length + 1);
        int count = Chance(0.85) ? Between(1, 16) : Between(17, 600);
        var run = new byte[count];
        string content;
        if (Chance(0.5))
        {
            byte b = RandomByte();
            run.AsSpan().Fill(b);
            content = Invariant($"{b:X2} repeated");
        }
        else
        {
            Random.NextBytes(run);
            content = Hex(run);
        }

        Note(Invariant($"{what}: insert {count} byte(s) at {at}: {content}"));
        return Splice(bytes, at, 0, run);
    }

    public byte[] DeleteRun(byte[] bytes, string what)
    {
        if (bytes.Length == 0)
        {
            return InsertRun(bytes, what);
        }

        int at = Random.Next(bytes.Length);
        int count = Math.Min(Between(1, 16), bytes.Length - at);
        Note(Invariant($"{what}: delete {count} byte(s) at {at}"));
        return Splice(bytes, at, count, []);
    }

    public byte[] DuplicateRun(byte[] bytes, string what)
    {
        if (bytes.Length == 0)
        {
            return InsertRun(bytes, what);
        }

        int from = Random.Next(bytes.Length);
        int count = Math.Min(Between(1, 32), bytes.Length - from);
        int to = Random.Next(bytes.Length + 1);
        Note(Invariant($"{what}: copy {count} byte(s) from {from} to {to}"));
        return Splice(bytes, to, 0, bytes.AsSpan(from, count));
    }

    /// <summary><paramref name="bytes"/> with <paramref name="removed"/> bytes at <paramref name="at"/> replaced by <paramref name="inserted"/>.</summary>
    public static byte[] Splice(ReadOnlySpan<byte> bytes, int at, int removed, ReadOnlySpan<byte> inserted)
    {
        var result = new byte[bytes.Length - removed + inserted.Length];
        bytes[..at].CopyTo(result);
        inserted.CopyTo(result.AsSpan(at));
        bytes[(at + removed)..].CopyTo(result.AsSpan(at + inserted.Length));
        return result;
    }

    public static string Hex(ReadOnlySpan<byte> bytes) =>
        bytes.Length <= 24 ? Convert.ToHexString(bytes) : Convert.ToHexString(bytes[..24]) + "…";

    /// <summary>Text for the log: printable ASCII as is, everything else escaped.</summary>
    public static string Printable(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        foreach (byte b in bytes)
        {
            text.Append(b is >= 0x20 and < 0x7F ? ((char)b).ToString() : Invariant($"\\x{b:X2}"));
        }

        return text.ToString();
    }

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
