using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// The conditional VAE (Doersch, "Tutorial on Variational Autoencoders", section 4; Sohn et al. 2015):
/// q(z | x, y) and p(x | z, y), with y the one-hot class label joined to the encoder's input ([x | y])
/// and to the decoder's ([z | y]). Its tensors are the MLP's with Classes more input columns in fc1 and
/// fc3, as torch.cat((x, y), 1) in front of nn.Linear gives. The prior stays N(0, I): to draw class K,
/// decode z ~ N(0, I) beside the one-hot of K.
/// </summary>
public sealed class ConditionalVaeNetwork : VaeNetwork
{
    private readonly DeviceBuffer<float> _encoderInput, _decoderInput, _dz;

    public ConditionalVaeNetwork(Accelerator accelerator, VaeConfig config, int capacity, ReadOnlySpan<float> initialParameters)
        : base(accelerator, config, capacity, initialParameters)
    {
        if (config.Kind != ModelKind.Conditional) throw new ArgumentException($"a {config.Kind} configuration is not a conditional model", nameof(config));
        _encoderInput = Rows(config.Input + config.Classes);
        _decoderInput = Rows(config.Latent + config.Classes);
        _dz = Rows(config.Latent);
    }

    /// <summary>[x | y]: the encoder's input beside the labels.</summary>
    protected override DeviceView<float> EncoderInput(VaeBatch batch, int rows)
    {
        var joined = _encoderInput.Slice(0, rows * (Config.Input + Config.Classes));
        Join(batch.EncoderInput, Config.Input, batch.Condition, joined, rows);
        return joined;
    }

    /// <summary>[z | y].</summary>
    protected override DeviceView<float> DecoderInput(DeviceView<float> z, DeviceView<float> condition, int rows)
    {
        var joined = _decoderInput.Slice(0, rows * (Config.Latent + Config.Classes));
        Join(z, Config.Latent, condition, joined, rows);
        return joined;
    }

    /// <summary>dz is the first Latent columns of d[z | y] (the labels are data: their gradient is dropped).</summary>
    protected override DeviceView<float> LatentGradient(DeviceView<float> decoderInputGradient, int rows)
    {
        var dz = _dz.Slice(0, rows * Config.Latent);
        _acc.CopyColumns(decoderInputGradient, rows, Config.Latent + Config.Classes, 0, dz, Config.Latent, 0, Config.Latent);
        return dz;
    }

    private void Join(DeviceView<float> left, int leftColumns, DeviceView<float> labels, DeviceView<float> joined, int rows)
    {
        int columns = leftColumns + Config.Classes;
        _acc.CopyColumns(left, rows, leftColumns, 0, joined, columns, 0, leftColumns);
        _acc.CopyColumns(labels, rows, Config.Classes, 0, joined, columns, leftColumns, Config.Classes);
    }
}
