#!/usr/bin/python3
"""The PyTorch column of scripts/bench: one machine, CPU, the same MNIST files and network.

Trains a 784-256-128-10 ReLU network (float32, PyTorch's default initialisation, softmax
cross-entropy) on the shipped MNIST IDX files (read here with gzip + numpy: no torchvision, no
network), evaluates the test accuracy after every epoch, and stops at the first epoch that reaches
the target accuracy or after the maximum number of epochs. Only training is timed (per epoch, with
time.perf_counter); loading the data and the evaluations are not.

Prints ONE JSON line on stdout, for example
  {"framework": "pytorch", "torch_version": "1.13.0", "threads": 2, "seconds_to_target": 4.1,
   "epochs_to_target": 3, "epoch_seconds": [...], "test_accuracy": [...], "examples_per_sec": ...}
seconds_to_target is the training time of the epochs up to and including the one that reached the
target; it and epochs_to_target are null when no epoch did. examples_per_sec is the training rows
of all epochs run over their training time. Progress goes to stderr.

Run it with Debian's interpreter, which has python3-torch: /usr/bin/python3 scripts/bench-torch.py
(a python3 earlier on PATH may lack torch; `/usr/bin/python3 -c "import torch"` says whether it is
there). Options: --help.
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
from torch import nn

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
LAYERS = [784, 256, 128, 10]
DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3}


def read_idx(path, magic):
    """The records of a gzip IDX file as a uint8 array: (count, rows*cols) images or (count,) labels."""
    if not os.path.isfile(path):
        sys.exit(f"IDX file {path} not found (--data-dir names the folder of the four MNIST .gz files)")
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        sys.exit(f"IDX file {path} is truncated: it ends inside its header")
    found, count = struct.unpack(">II", data[:8])
    if found != magic:
        sys.exit(f"IDX file {path}: expected magic number {magic} ({magic:#010x}) but found {found} ({found:#010x})")
    if magic == IMAGES_MAGIC:
        if len(data) < 16:
            sys.exit(f"IDX images file {path} is truncated: it ends inside its header")
        rows, cols = struct.unpack(">II", data[8:16])
        header, shape = 16, (count, rows * cols)
    else:
        header, shape = 8, (count,)
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        sys.exit(f"IDX file {path}: its header says {expected} bytes uncompressed but it holds {len(data)}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def load(data_dir, prefix):
    images = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"), IMAGES_MAGIC)
    labels = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"), LABELS_MAGIC)
    if images.shape[0] != labels.shape[0]:
        sys.exit(f"{prefix}: {images.shape[0]} images but {labels.shape[0]} labels")
    if images.shape[1] != LAYERS[0]:
        sys.exit(f"{prefix}: expected images of {LAYERS[0]} pixels but found {images.shape[1]}")
    x = torch.from_numpy(images.astype(np.float32) / np.float32(255.0))
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def network():
    modules = []
    for i in range(len(LAYERS) - 1):
        modules.append(nn.Linear(LAYERS[i], LAYERS[i + 1]))
        if i < len(LAYERS) - 2:
            modules.append(nn.ReLU())
    return nn.Sequential(*modules)


def accuracy(model, x, y, batch=4096):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, x.shape[0], batch):
            correct += (model(x[start:start + batch]).argmax(dim=1) == y[start:start + batch]).sum().item()
    model.train()
    return correct / x.shape[0]


def arguments():
    default_data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "mnist")
    p = argparse.ArgumentParser(description="PyTorch CPU baseline for scripts/bench: MNIST 784-256-128-10 ReLU.")
    p.add_argument("--data-dir", default=default_data, help="folder of the four MNIST .gz files [data/mnist]")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads [2]")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd", help="sgd (with momentum) or adam [sgd]")
    p.add_argument("--lr", type=float, default=None, help="learning rate [0.05 for sgd, 0.001 for adam]")
    p.add_argument("--momentum", type=float, default=0.9, help="sgd momentum [0.9]")
    p.add_argument("--batch", type=int, default=128, help="mini-batch size [128]")
    p.add_argument("--target", type=float, default=0.97, help="target test accuracy [0.97]")
    p.add_argument("--max-epochs", type=int, default=10, help="stop after this many epochs [10]")
    p.add_argument("--seed", type=int, default=42, help="seeds torch (weights, shuffling) and numpy [42]")
    a = p.parse_args()
    if a.lr is None:
        a.lr = DEFAULT_LR[a.optimizer]
    if a.threads < 1:
        p.error(f"--threads must be at least 1 but got {a.threads}")
    if a.batch < 1:
        p.error(f"--batch must be at least 1 but got {a.batch}")
    if not a.lr > 0:
        p.error(f"--lr must be positive but got {a.lr}")
    if not 0 <= a.momentum < 1:
        p.error(f"--momentum must be in [0, 1) but got {a.momentum}")
    if not 0 < a.target <= 1:
        p.error(f"--target must be in (0, 1] but got {a.target}")
    if a.max_epochs < 1:
        p.error(f"--max-epochs must be at least 1 but got {a.max_epochs}")
    return a


def main():
    a = arguments()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    x_train, y_train = load(a.data_dir, "train")
    x_test, y_test = load(a.data_dir, "t10k")

    model = network()
    if a.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()
    shuffle = torch.Generator().manual_seed(a.seed)
    n = x_train.shape[0]

    epoch_seconds, test_accuracy = [], []
    seconds_to_target = epochs_to_target = None
    for epoch in range(a.max_epochs):
        start = time.perf_counter()
        order = torch.randperm(n, generator=shuffle)
        for first in range(0, n, a.batch):
            batch = order[first:first + a.batch]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[batch]), y_train[batch])
            loss.backward()
            optimizer.step()
        epoch_seconds.append(time.perf_counter() - start)
        test_accuracy.append(accuracy(model, x_test, y_test))
        print(f"pytorch epoch {epoch + 1}/{a.max_epochs}: {epoch_seconds[-1]:.2f} s, last batch loss "
              f"{loss.item():.4f}, test accuracy {test_accuracy[-1]:.4f}", file=sys.stderr)
        if test_accuracy[-1] >= a.target:
            seconds_to_target = sum(epoch_seconds)
            epochs_to_target = epoch + 1
            break

    print(json.dumps({
        "framework": "pytorch",
        "torch_version": torch.__version__,
        "threads": a.threads,
        "seconds_to_target": seconds_to_target,
        "epochs_to_target": epochs_to_target,
        "epoch_seconds": epoch_seconds,
        "test_accuracy": test_accuracy,
        "examples_per_sec": n * len(epoch_seconds) / sum(epoch_seconds),
        "target_accuracy": a.target,
        "layers": LAYERS,
        "optimizer": a.optimizer,
        "lr": a.lr,
        "momentum": a.momentum if a.optimizer == "sgd" else None,
        "batch_size": a.batch,
        "max_epochs": a.max_epochs,
        "seed": a.seed,
        "train_rows": n,
        "test_rows": x_test.shape[0],
    }))


if __name__ == "__main__":
    main()
