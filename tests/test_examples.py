"""The streaming example runs and streams the same statistics as an in-memory computation."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
from conftest import relative_error

from advmetric import PairStatistics

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "stream_pairs.py"


def load_example():
    spec = importlib.util.spec_from_file_location("stream_pairs", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_streamed_statistics_equal_in_memory(tmp_path):
    example = load_example()
    example.write_dataset(tmp_path, n_pairs=5003, d=5, n_samples=300, seed=1, chunk=1000)
    streamed = example.stream_statistics(tmp_path, chunk=700)  # chunks unaligned with the writer's
    X = np.load(tmp_path / "X.npy")
    index = np.load(tmp_path / "pairs.npy")
    labels = np.load(tmp_path / "labels.npy")
    whole = PairStatistics.from_indices(X, index, labels)
    assert (streamed.n_similar, streamed.n_dissimilar) == (whole.n_similar, whole.n_dissimilar)
    assert streamed.n_pairs == 5003
    assert relative_error(streamed.A, whole.A) <= 1e-12
    assert relative_error(streamed.B, whole.B) <= 1e-12


def test_example_runs_end_to_end():
    # as a user runs it: a script whose writer is a spawned child process
    args = ["--pairs", "2e4", "--samples", "500", "--dim", "4", "--chunk", "3000"]
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), *args], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    # (the 1 GB bound is for the full-size run; here the interpreter alone may exceed it, e.g.
    # under AddressSanitizer)
    assert "converged True" in done.stdout and "peak RSS of the streaming fit" in done.stdout
