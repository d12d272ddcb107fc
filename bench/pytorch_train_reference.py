#!/usr/bin/env python3
"""PyTorch side-by-side of `lsms-surrogate train` on a real dataset file (issue 15).

Trains the paper's MLP (one-hot input, shared ReLU layers, per-task heads) on ONE fold of a
dataset written by `lsms-surrogate import`/`build`, with the same split (fold f validates, fold
-1 is the test set), the same target transforms (energy minus a least-squares per-species
reference, charge minus Z, per-column standardization with training statistics), the same
batch (batch_fraction of the training rows, last partial batch kept, reshuffled every epoch)
and Adam with PyTorch's defaults, and prints the test RMSE in physical units (mRy/cell, e, muB)
of the last epoch's weights and of the best-validation weights.

Reads the HDF5 file with h5py, or through `h5dump -b` (hdf5-tools) when h5py is missing.
Debian's python3-torch runs under /usr/bin/python3.

  /usr/bin/python3 bench/pytorch_train_reference.py fept_lsms.h5 --tasks energy --shared 200 200 \
      --epochs 100 --fold 0 --lr 1e-3
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np


def read_h5(path, names):
    try:
        import h5py
        with h5py.File(path, "r") as f:
            return {n: np.array(f[n]) for n in names}
    except ImportError:
        pass
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in names:
            shape_txt = subprocess.run(["h5dump", "-H", "-d", n, path], check=True,
                                       capture_output=True, text=True).stdout
            dims = shape_txt.split("DATASPACE")[1].split("(")[1].split(")")[0]
            shape = tuple(int(x) for x in dims.split(","))
            # The dataset's own type is the first DATATYPE line (attributes follow).
            type_name = shape_txt.split("DATATYPE")[1].split()[0]
            kind = {"H5T_STD_U8LE": "u1", "H5T_STD_I8LE": "i1", "H5T_STD_I32LE": "i4",
                    "H5T_STD_I64LE": "i8", "H5T_IEEE_F64LE": "f8"}[type_name]
            binf = os.path.join(tmp, "x.bin")
            subprocess.run(["h5dump", "-d", n, "-b", "LE", "-o", binf, path], check=True,
                           capture_output=True)
            out[n] = np.fromfile(binf, dtype="<" + kind).reshape(shape)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset")
    ap.add_argument("--tasks", nargs="+", default=["energy"])
    ap.add_argument("--shared", nargs="+", type=int, default=[200, 200])
    ap.add_argument("--task-width", type=int, default=-1, help="-1: 0 for one task, 100 per task")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-fraction", type=float, default=0.1)
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-input-std", action="store_true", help="raw 0/1 one-hot inputs")
    ap.add_argument("--cosine", action="store_true", help="cosine learning rate decay to 0")
    args = ap.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    d = read_h5(args.dataset, ["/configs/occupation", "/configs/fold", "/results/config",
                               "/results/energy", "/results/charge", "/results/moment",
                               "/results/status"])
    occ = d["/configs/occupation"].astype(np.int64)
    fold = d["/configs/fold"]
    rows, sites = occ.shape
    species = int(occ.max()) + 1
    ok = d["/results/status"] == 0
    cfg = d["/results/config"][ok]
    values = {"energy": np.full((rows, 1), np.nan), "charge": np.full((rows, sites), np.nan),
              "moment": np.full((rows, sites), np.nan)}
    values["energy"][cfg, 0] = d["/results/energy"][ok]
    values["charge"][cfg] = d["/results/charge"][ok]
    values["moment"][cfg] = d["/results/moment"][ok]
    # Charge targets are charge - Z (charge transfer, as the trainer's default); Z of a species
    # is the nearest integer to its sites' median electron count.
    Z = np.array([round(float(np.nanmedian(values["charge"][occ == s]))) for s in range(species)])
    values_transfer = values["charge"] - Z[occ]

    train = np.where((fold != -1) & (fold != args.fold))[0]
    val = np.where(fold == args.fold)[0]
    test = np.where(fold == -1)[0]
    onehot = np.zeros((rows, sites * species))
    for s in range(species):
        onehot[:, s::species] = occ == s
    counts = np.stack([(occ == s).sum(1) for s in range(species)], 1).astype(float)
    mu = onehot[train].mean(0)
    sd = onehot[train].std(0)
    sd[sd <= 1e-12] = 1
    X = onehot if args.no_input_std else (onehot - mu) / sd

    # Targets: energy - counts.e_ref (least squares on the training rows), per-column std.
    targets, decode = [], []
    for t in args.tasks:
        v = values[t].copy()
        shift = np.zeros_like(v)
        if t == "charge":
            v = values_transfer.copy()
        if t == "energy":
            ref, *_ = np.linalg.lstsq(counts[train], v[train, 0], rcond=None)
            shift[:, 0] = counts @ ref
        v = v - shift
        m, s = v[train].mean(0), v[train].std(0)
        s[s <= 1e-12] = 1
        targets.append(torch.tensor((v - m) / s, dtype=torch.float32))
        decode.append((m, s, shift))

    w = args.task_width if args.task_width >= 0 else (0 if len(args.tasks) == 1 else 100 * len(args.tasks))
    head = w // len(args.tasks)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            layers, width = [], sites * species
            for h in args.shared:
                layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
                width = h
            self.trunk = torch.nn.Sequential(*layers)
            outs = [1 if t == "energy" else sites for t in args.tasks]
            if head > 0:
                self.heads = torch.nn.ModuleList(torch.nn.Sequential(
                    torch.nn.Linear(width, head), torch.nn.ReLU(), torch.nn.Linear(head, o))
                    for o in outs)
            else:
                self.heads = torch.nn.ModuleList(torch.nn.Linear(width, o) for o in outs)

        def forward(self, x):
            z = self.trunk(x)
            return [h(z) for h in self.heads]

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    Xt = torch.tensor(X, dtype=torch.float32)
    batch = max(1, round(args.batch_fraction * len(train)))
    mse = torch.nn.MSELoss()
    best, best_state, best_epoch = float("inf"), None, 0
    gen = torch.Generator().manual_seed(args.seed)
    interval = max(1, args.epochs // 200)
    for epoch in range(1, args.epochs + 1):
        if args.cosine:  # as LearningRate::at (epoch 1: the full rate)
            for g in opt.param_groups:
                g["lr"] = 0.5 * args.lr * (1 + np.cos(np.pi * (epoch - 1) / args.epochs))
        perm = torch.tensor(train)[torch.randperm(len(train), generator=gen)]
        for first in range(0, len(train), batch):
            idx = perm[first:first + batch]
            opt.zero_grad()
            ys = net(Xt[idx])
            loss = sum(mse(y, t[idx]) for y, t in zip(ys, targets))
            loss.backward()
            opt.step()
        if epoch % interval == 0 or epoch == args.epochs:
            with torch.no_grad():
                ys = net(Xt[val])
                v = float(sum(mse(y, t[val]) for y, t in zip(ys, targets)))
            if v < best:
                best, best_epoch = v, epoch
                best_state = {k: x.clone() for k, x in net.state_dict().items()}

    def test_rmse():
        with torch.no_grad():
            ys = net(Xt[test])
        out = []
        for t, y, (m, s, shift) in zip(args.tasks, ys, decode):
            p = y.numpy().astype(float) * s + m + shift[test]
            if t == "charge":
                p = p + Z[occ[test]]
            err = np.sqrt(np.mean((p - values[t][test]) ** 2))
            out.append(f"{t} {err * 1000:.2f} mRy/cell" if t == "energy" else
                       f"{t} {err:.4f} {'e' if t == 'charge' else 'muB'}")
        return ", ".join(out)

    print(f"torch {torch.__version__}; fold {args.fold}; {len(train)} train, {len(val)} validation, "
          f"{len(test)} test rows; batch {batch}; {args.epochs} epochs at lr {args.lr}")
    print(f"RESULT last  (epoch {args.epochs}): {test_rmse()}")
    net.load_state_dict(best_state)
    print(f"RESULT best  (epoch {best_epoch}, validation {best:.4g}): {test_rmse()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
