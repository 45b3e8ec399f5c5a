using System.Numerics.Tensors;

namespace IlgpuVae.Model;

/// <summary>Where a NaN or an infinity sits in a tensor: its name, the element's index and its value.</summary>
public readonly record struct NonFiniteValue(string Tensor, int Index, float Value)
{
    public override string ToString() => $"tensor '{Tensor}' holds {Value} at element {Index}";
}

/// <summary>
/// Finds NaN and infinities in parameters. A diverged run produces them, and a model that holds one
/// only draws black or NaN images, so no file is written with one and no command uses one.
/// </summary>
public static class NonFiniteValues
{
    /// <summary>The index of the first NaN or infinity in values, or -1.</summary>
    public static int IndexOf(ReadOnlySpan<float> values)
    {
        // The sum is finite when every value is (a sum of finite floats overflows only past ~3e38,
        // which no trained parameter reaches), so one vectorised pass settles the common case.
        if (float.IsFinite(TensorPrimitives.Sum(values))) return -1;
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    /// <summary>The first non-finite parameter of the flat buffer, named by its tensor in the layout, or null.</summary>
    public static NonFiniteValue? Find(ParameterLayout layout, ReadOnlySpan<float> parameters)
    {
        foreach (var t in layout.Tensors)
        {
            int i = IndexOf(parameters.Slice(t.Offset, t.Length));
            if (i >= 0) return new NonFiniteValue(t.Name, i, parameters[t.Offset + i]);
        }
        return null;
    }

    /// <summary>The first non-finite value of one flat tensor (a checkpoint's Adam moments), or null.</summary>
    public static NonFiniteValue? Find(string tensor, ReadOnlySpan<float> values)
    {
        int i = IndexOf(values);
        return i >= 0 ? new NonFiniteValue(tensor, i, values[i]) : null;
    }
}
