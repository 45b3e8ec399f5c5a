#!/usr/bin/python3
"""Reference convolutional VAE (the architecture of the project's conv model: two stride-2 4x4
convolutions 1-32-64 to 7x7, linear mu | logvar heads of 20, a linear layer back to 64x7x7 and two
stride-2 4x4 transposed convolutions 64-32-1; Bernoulli decoder, Adam 1e-3, batch 128) on IDX data,
timed per epoch. The side-by-side anchor for the conv model, as pytorch_vae.py is for the MLP.
usage: pytorch_conv_vae.py DATA_DIR [epochs] [threads] [device] [seed] [batch]"""
import gzip, struct, sys, time, math
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

def idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    magic, n = struct.unpack('>II', data[:8])
    if magic == 2051:
        r, c = struct.unpack('>II', data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(n, r * c)
    return np.frombuffer(data, np.uint8, offset=8)

class ConvVAE(nn.Module):
    def __init__(s, z=20):
        super().__init__()
        s.conv1, s.conv2 = nn.Conv2d(1, 32, 4, 2, 1), nn.Conv2d(32, 64, 4, 2, 1)      # 28 -> 14 -> 7
        s.fc21, s.fc22 = nn.Linear(64 * 7 * 7, z), nn.Linear(64 * 7 * 7, z)
        s.fc3 = nn.Linear(z, 64 * 7 * 7)
        s.deconv1, s.deconv2 = nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ConvTranspose2d(32, 1, 4, 2, 1)  # 7 -> 14 -> 28
    def forward(s, x):
        h = F.relu(s.conv2(F.relu(s.conv1(x.view(-1, 1, 28, 28))))).flatten(1)
        mu, lv = s.fc21(h), s.fc22(h)
        zz = mu + torch.randn_like(mu) * torch.exp(0.5 * lv)
        d = F.relu(s.fc3(zz)).view(-1, 64, 7, 7)
        return s.deconv2(F.relu(s.deconv1(d))).flatten(1), mu, lv

def loss_fn(logits, x, mu, lv):
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction='sum')
    kld = -0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp())
    return bce + kld

def main():
    d = sys.argv[1]; epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2; dev = sys.argv[4] if len(sys.argv) > 4 else 'cpu'
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    B = int(sys.argv[6]) if len(sys.argv) > 6 else 128
    torch.set_num_threads(threads); torch.manual_seed(seed)
    xtr = torch.tensor(idx(f'{d}/train-images-idx3-ubyte.gz'), dtype=torch.float32, device=dev) / 255.
    xte = torch.tensor(idx(f'{d}/t10k-images-idx3-ubyte.gz'), dtype=torch.float32, device=dev) / 255.
    m = ConvVAE().to(dev); opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    print(f'torch {torch.__version__} threads {torch.get_num_threads()} device {dev} batch {B}', flush=True)
    for ep in range(1, epochs + 1):
        m.train(); perm = torch.randperm(xtr.shape[0], device=dev); tot = 0.0
        if dev != 'cpu': torch.cuda.synchronize()
        t0 = time.perf_counter()
        for i in range(0, xtr.shape[0], B):
            x = xtr[perm[i:i + B]]
            logits, mu, lv = m(x); loss = loss_fn(logits, x, mu, lv)
            opt.zero_grad(); loss.backward(); opt.step(); tot += loss.item()
        if dev != 'cpu': torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        m.eval(); te = 0.0
        with torch.no_grad():
            for i in range(0, xte.shape[0], 1000):
                x = xte[i:i + 1000]; logits, mu, lv = m(x); te += loss_fn(logits, x, mu, lv).item()
        print(f'epoch {ep} train_loss {tot / xtr.shape[0]:.3f} test_loss {te / xte.shape[0]:.3f} '
              f'epoch_s {dt:.3f} samples_per_s {xtr.shape[0] / dt:.0f}', flush=True)

if __name__ == '__main__':
    main()
