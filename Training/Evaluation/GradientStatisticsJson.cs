using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace IlgpuVae.Training.Evaluation;

/// <summary>
/// The JSON of <see cref="GradientVarianceSummary"/> and <see cref="GradientComparison"/>, written with
/// Utf8JsonWriter and read with JsonDocument rather than the reflection serializer, so that the trimmed
/// publish of the program keeps working. Numbers are written in the shortest form that reads back to
/// the same double (invariant, as JSON requires); NaN and ±infinity, which JSON numbers cannot hold, are
/// the strings "NaN", "Infinity" and "-Infinity" (System.Text.Json's named floating-point literals).
/// </summary>
internal static class GradientStatisticsJson
{
    private static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(GradientVarianceSummary summary) => Write(w =>
    {
        w.WriteNumber("draws", summary.Draws);
        w.WriteStartArray("groups");
        foreach (var g in summary.Groups)
        {
            w.WriteStartObject();
            w.WriteString("name", g.Name);
            w.WriteNumber("elements", g.Elements);
            Number(w, "mean_of_means", g.MeanOfMeans);
            Number(w, "mean_variance", g.MeanVariance);
            Number(w, "mean_squared_norm", g.MeanSquaredNorm);
            Number(w, "squared_norm_of_mean", g.SquaredNormOfMean);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });

    public static string Write(GradientComparison comparison) => Write(w =>
    {
        Number(w, "z", comparison.Z);
        w.WriteNumber("draws_a", comparison.DrawsA);
        w.WriteNumber("draws_b", comparison.DrawsB);
        w.WriteStartArray("groups");
        foreach (var g in comparison.Groups)
        {
            w.WriteStartObject();
            w.WriteString("name", g.Name);
            w.WriteNumber("elements", g.Elements);
            Number(w, "variance_ratio", g.VarianceRatio);
            Number(w, "agreement_share", g.AgreementShare);
            Number(w, "expected_agreement_share", g.ExpectedAgreementShare);
            Number(w, "reduced_chi_square", g.ReducedChiSquare);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });

    public static GradientVarianceSummary ReadSummary(string json)
    {
        using var document = Parse(json);
        var root = document.RootElement;
        return new GradientVarianceSummary(root.GetProperty("draws").GetInt64(), [.. Groups(root).Select(g => new GroupGradientStatistics(
            g.GetProperty("name").GetString() ?? throw new FormatException("a group's name is null"),
            g.GetProperty("elements").GetInt32(),
            Number(g, "mean_of_means"), Number(g, "mean_variance"), Number(g, "mean_squared_norm"), Number(g, "squared_norm_of_mean")))]);
    }

    public static GradientComparison ReadComparison(string json)
    {
        using var document = Parse(json);
        var root = document.RootElement;
        return new GradientComparison(Number(root, "z"), root.GetProperty("draws_a").GetInt64(), root.GetProperty("draws_b").GetInt64(),
            [.. Groups(root).Select(g => new GroupComparison(
                g.GetProperty("name").GetString() ?? throw new FormatException("a group's name is null"),
                g.GetProperty("elements").GetInt32(),
                Number(g, "variance_ratio"), Number(g, "agreement_share"), Number(g, "expected_agreement_share"), Number(g, "reduced_chi_square")))]);
    }

    private static string Write(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Options))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Number(Utf8JsonWriter writer, string name, double value)
    {
        if (double.IsFinite(value)) writer.WriteNumber(name, value); // "R"-exact, invariant
        else writer.WriteString(name, double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
    }

    private static double Number(JsonElement element, string name)
    {
        var value = element.GetProperty(name);
        if (value.ValueKind == JsonValueKind.Number) return value.GetDouble();
        return value.GetString() switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            var s => throw new FormatException($"'{name}' is '{s}', not a number"),
        };
    }

    private static JsonDocument Parse(string json)
    {
        try { return JsonDocument.Parse(json); }
        catch (JsonException e) { throw new FormatException($"not gradient statistics JSON: {e.Message}", e); }
    }

    private static IEnumerable<JsonElement> Groups(JsonElement root) => root.GetProperty("groups").EnumerateArray();
}
