using IlgpuVae.Kernels;

namespace IlgpuVae.Model.Layers;

/// <summary>
/// A run of linear layers, each followed by the hidden activation, with its activation buffers for up
/// to capacity rows: the deterministic parts of a model (an MLP from one width to another). Forward
/// keeps every layer's output for backward; backward takes the gradient of the last output (after its
/// activation) and leaves the parameters' gradients in the model's flat gradient buffer.
/// </summary>
public sealed class DenseStack
{
    private readonly Accelerator _acc;
    private readonly IReadOnlyList<LinearSlot> _slots;
    private readonly Activation _activation;
    private readonly DeviceBuffer<float>[] _out, _grad;
    private readonly int _capacity;
    private DeviceView<float> _input;

    /// <param name="allocate">Allocates a rows x width buffer that the model owns (and disposes).</param>
    public DenseStack(Accelerator accelerator, IReadOnlyList<LinearSlot> slots, Activation activation, int capacity, Func<int, DeviceBuffer<float>> allocate)
    {
        _acc = accelerator;
        _slots = slots;
        _activation = activation;
        _capacity = capacity;
        _out = slots.Select(s => allocate(s.Out)).ToArray();
        _grad = slots.Select(s => allocate(s.Out)).ToArray();
    }

    public int Count => _slots.Count;

    /// <summary>The width of the output (the input's when the stack is empty).</summary>
    public int OutWidth(int inputWidth) => _slots.Count == 0 ? inputWidth : _slots[^1].Out;

    /// <summary>act(... act(x W1^T + b1) ...) for rows of input; returns the last output (input itself when empty).</summary>
    public DeviceView<float> Forward(DeviceBuffer<float> parameters, DeviceView<float> input, int rows)
    {
        _input = input;
        DeviceView<float> h = input;
        for (int i = 0; i < _slots.Count; i++)
        {
            Linear.Forward(_acc, parameters, _slots[i], h, rows, Out(i, rows), _activation);
            h = Out(i, rows);
        }
        return h;
    }

    /// <summary>
    /// Backward of the last <see cref="Forward"/> given dOut, the gradient of its output after the
    /// activation (dOut may be overwritten). dInput (null: not needed) receives the input's gradient,
    /// added to what it holds when accumulate is set. With no layers, dOut is copied or added to dInput.
    /// </summary>
    public void Backward(DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, DeviceView<float> dOut, int rows,
        DeviceView<float> dInput, bool accumulate = false)
    {
        for (int i = _slots.Count - 1; i >= 0; i--)
        {
            _acc.ActivationBackward(_activation, Out(i, rows), dOut, dOut);
            DeviceView<float> input = i == 0 ? _input : Out(i - 1, rows);
            DeviceView<float> dIn = i == 0 ? dInput : Grad(i - 1, rows);
            Linear.Backward(_acc, parameters, gradients, _slots[i], input, rows, dOut, dIn, accumulate && i == 0);
            dOut = dIn;
            if (dOut.IsNull) return;
        }
        if (_slots.Count == 0 && !dInput.IsNull)
            throw new InvalidOperationException("an empty stack has no input gradient of its own");
    }

    private DeviceView<float> Out(int i, int rows) => _out[i].Slice(0, rows * _slots[i].Out);
    private DeviceView<float> Grad(int i, int rows) => _grad[i].Slice(0, rows * _slots[i].Out);
}

/// <summary>A linear layer y = act(x W^T + b) on the flat buffers, forward and backward side by side.</summary>
public static class Linear
{
    /// <summary>One GEMM (N, T) with the bias and activation fused into its epilogue.</summary>
    public static void Forward(Accelerator acc, DeviceBuffer<float> parameters, LinearSlot slot, DeviceView<float> x, int rows,
        DeviceView<float> y, Activation activation)
        => acc.Gemm(Transpose.N, Transpose.T, rows, slot.Out, slot.In, 1f, x, Weight(parameters, slot), 0f, y,
            Epilogue.WithBias(Bias(parameters, slot), activation));

    /// <summary>
    /// Given dy (the gradient before the activation): dW = dy^T x, db = column sums of dy, and, when dx
    /// is wanted, dx = dy W (added to dx's contents when accumulate is set: a GEMM with beta 1).
    /// </summary>
    public static void Backward(Accelerator acc, DeviceBuffer<float> parameters, DeviceBuffer<float> gradients, LinearSlot slot,
        DeviceView<float> x, int rows, DeviceView<float> dy, DeviceView<float> dx, bool accumulate = false)
    {
        acc.Gemm(Transpose.T, Transpose.N, slot.Out, slot.In, rows, 1f, dy, x, 0f, Weight(gradients, slot));
        acc.BiasGradient(dy, rows, slot.Out, Bias(gradients, slot));
        if (!dx.IsNull) acc.Gemm(Transpose.N, Transpose.N, rows, slot.In, slot.Out, 1f, dy, Weight(parameters, slot), accumulate ? 1f : 0f, dx);
    }

    public static DeviceView<float> Weight(DeviceBuffer<float> flat, LinearSlot slot) => flat.Slice(slot.WeightOffset, slot.WeightLength);
    public static DeviceView<float> Bias(DeviceBuffer<float> flat, LinearSlot slot) => flat.Slice(slot.BiasOffset, slot.Out);
}
