namespace Lipizzaner.Core.Randomness;

/// <summary>
/// A seedable random stream (xoshiro256**) whose complete state can be saved and restored, so a
/// checkpointed cell continues with exactly the draws it would have made. It drives every
/// non-tensor choice of a cell: tournaments, opponents, learning-rate and mixture mutations.
/// <see cref="System.Random"/> is not used because its state cannot be serialised.
/// </summary>
public sealed class CellRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;
    private double? _spareGaussian;

    public CellRandom(ulong seed)
    {
        // SplitMix64 expands the seed into the four state words, as the xoshiro authors recommend.
        ulong mixer = seed;
        _s0 = SplitMix64(ref mixer);
        _s1 = SplitMix64(ref mixer);
        _s2 = SplitMix64(ref mixer);
        _s3 = SplitMix64(ref mixer);
    }

    private CellRandom()
    {
    }

    /// <summary>Derives the seed of one cell's stream from the run seed, the cell index and a purpose tag.</summary>
    public static ulong DeriveSeed(int runSeed, int cellIndex, ulong purpose)
    {
        ulong mixer = ((ulong)(uint)runSeed << 32) ^ (uint)cellIndex ^ (purpose * 0x9E3779B97F4A7C15UL);
        SplitMix64(ref mixer);
        return SplitMix64(ref mixer);
    }

    public ulong NextUInt64()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Returns a uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Returns a uniform integer in [0, <paramref name="maxExclusive"/>), without modulo bias.</summary>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxExclusive, 1);
        ulong bound = (ulong)maxExclusive;
        ulong threshold = (0UL - bound) % bound;
        while (true)
        {
            ulong value = NextUInt64();
            if (value >= threshold)
            {
                return (int)(value % bound);
            }
        }
    }

    /// <summary>Returns a standard normal draw (Marsaglia's polar method, caching the second value).</summary>
    public double NextGaussian()
    {
        if (_spareGaussian is double spare)
        {
            _spareGaussian = null;
            return spare;
        }

        double u, v, s;
        do
        {
            u = 2 * NextDouble() - 1;
            v = 2 * NextDouble() - 1;
            s = u * u + v * v;
        }
        while (s >= 1 || s == 0);

        double factor = Math.Sqrt(-2 * Math.Log(s) / s);
        _spareGaussian = v * factor;
        return u * factor;
    }

    /// <summary>Returns <paramref name="count"/> distinct indices from [0, <paramref name="populationSize"/>), in draw order.</summary>
    public int[] SampleWithoutReplacement(int populationSize, int count)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, populationSize);
        int[] pool = Enumerable.Range(0, populationSize).ToArray();
        for (int i = 0; i < count; i++)
        {
            int j = i + NextInt(populationSize - i);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }

        return pool[..count];
    }

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher–Yates).</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>Returns the complete state: four state words and the cached Gaussian, if any.</summary>
    public byte[] SaveState()
    {
        var buffer = new byte[8 * 4 + 1 + 8];
        BitConverter.TryWriteBytes(buffer.AsSpan(0), _s0);
        BitConverter.TryWriteBytes(buffer.AsSpan(8), _s1);
        BitConverter.TryWriteBytes(buffer.AsSpan(16), _s2);
        BitConverter.TryWriteBytes(buffer.AsSpan(24), _s3);
        buffer[32] = _spareGaussian.HasValue ? (byte)1 : (byte)0;
        BitConverter.TryWriteBytes(buffer.AsSpan(33), _spareGaussian ?? 0);
        return buffer;
    }

    public static CellRandom RestoreState(ReadOnlySpan<byte> state)
    {
        if (state.Length != 41)
        {
            throw new InvalidDataException($"Random state has {state.Length} bytes; expected 41.");
        }

        return new CellRandom
        {
            _s0 = BitConverter.ToUInt64(state[..8]),
            _s1 = BitConverter.ToUInt64(state[8..16]),
            _s2 = BitConverter.ToUInt64(state[16..24]),
            _s3 = BitConverter.ToUInt64(state[24..32]),
            _spareGaussian = state[32] == 1 ? BitConverter.ToDouble(state[33..41]) : null,
        };
    }

    private static ulong RotateLeft(ulong value, int bits) => (value << bits) | (value >> (64 - bits));

    private static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
