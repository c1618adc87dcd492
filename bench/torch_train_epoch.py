"""Anchor: one shuffled mini-batch epoch in PyTorch, the loop `mlpd-bench service --only epoch`
runs through mlpd's Train RPC.

60,000 rows of 784 features (uniform in [-1, 1], labels in [0, 10)) held in one tensor;
784-256-10, relu, cross-entropy, Adam (lr 1e-3), batch 128, a fresh permutation per epoch and
each batch gathered by indexing that tensor (no DataLoader). Prints the median epoch time.
Usage: /usr/bin/python3 torch_train_epoch.py [threads] [epochs]
"""
import statistics
import sys
import time

import torch

ROWS, FEATURES, HIDDEN, CLASSES, BATCH = 60000, 784, 256, 10, 128


def refuse_reference_blas(minimum_gflops=15.0):
    # Debian's torch silently falls back to the reference BLAS without libopenblas0-pthread,
    # about 30x slower: a ratio against that would be meaningless.
    a = torch.randn(1024, 1024)
    torch.mm(a, a)
    start = time.perf_counter()
    for _ in range(3):
        torch.mm(a, a)
    gflops = 3 * 2 * 1024**3 / (time.perf_counter() - start) / 1e9
    if gflops < minimum_gflops:
        sys.exit(f"torch_train_epoch: PyTorch's matrix product runs at {gflops:.1f} GFLOP/s, "
                 "the reference BLAS; install libopenblas0-pthread")


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    torch.set_num_threads(threads)
    refuse_reference_blas()
    torch.manual_seed(0)
    x = torch.rand(ROWS, FEATURES) * 2 - 1
    y = torch.randint(0, CLASSES, (ROWS,))
    model = torch.nn.Sequential(torch.nn.Linear(FEATURES, HIDDEN), torch.nn.ReLU(),
                                torch.nn.Linear(HIDDEN, CLASSES))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = torch.nn.CrossEntropyLoss()
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(ROWS)
        for first in range(0, ROWS, BATCH):
            rows = order[first:first + BATCH]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(model(x[rows]), y[rows])
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    print(f"epoch_seconds {statistics.median(times):.4f} threads {threads} "
          f"last_loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
