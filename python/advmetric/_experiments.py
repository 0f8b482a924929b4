"""Helpers shared by the experiment scripts in ``examples/`` and ``benchmarks/``.

Private: not part of advmetric's public API and free to change. The scripts run from the
repository root or from their own folder, so the one place both can import without a
``sys.path`` edit is the installed package.

What is here: the k-NN test error of a learned transform, and the metric-learn peers
(``ITML_Supervised`` and ``LMNN``) that the scripts compare against. metric-learn 0.7.0 does
not work with scikit-learn >= 1.8, so the peers run in a virtualenv of their own (created on
first use with ``python -m venv DIR && DIR/bin/pip install metric-learn==0.7.0
"scikit-learn<1.8"``), in a subprocess that receives exactly the caller's arrays in an .npz file
and reports one JSON line per fit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import numpy as np

PEER_REQUIREMENTS = ["metric-learn==0.7.0", "scikit-learn<1.8"]
DEFAULT_PEERS_VENV = Path(tempfile.gettempdir()) / "advmetric-peers-venv"

# The peers by the name their records carry, with the settings _PEER_SCRIPT fits them with (the
# seed of the split is their random_state; everything else is metric-learn's default).
PEERS = {
    "ITML_Supervised": "ITML_Supervised(random_state=seed)",
    "LMNN": "LMNN(n_neighbors=5, random_state=seed)",
}

_ARRAYS = ("X_train", "X_test", "y_train", "y_test")

# Runs in the peers' virtualenv: argv = npz file, JSON list of [key, seed]. Prints one JSON line
# per fit, as soon as it is done, so that a crash loses only the fits after it.
_PEER_SCRIPT = textwrap.dedent(
    """
    import json, sys, time, warnings
    import numpy as np
    import metric_learn, sklearn
    from sklearn.neighbors import KNeighborsClassifier

    warnings.simplefilter("ignore")
    data = np.load(sys.argv[1])
    versions = f"metric-learn {metric_learn.__version__}, scikit-learn {sklearn.__version__}"
    peers = {
        "ITML_Supervised": lambda seed: metric_learn.ITML_Supervised(random_state=seed),
        "LMNN": lambda seed: metric_learn.LMNN(n_neighbors=5, random_state=seed),
    }
    for key, seed in json.loads(sys.argv[2]):
        X_train, X_test, y_train, y_test = (data[f"{key}__{seed}__{a}"] for a in ARRAYS)
        for method, make in peers.items():
            record = {"key": key, "seed": seed, "method": method, "versions": versions}
            try:
                model = make(seed)
                start = time.perf_counter()
                model.fit(X_train, y_train)
                record["time"] = time.perf_counter() - start
                knn = KNeighborsClassifier(n_neighbors=5).fit(model.transform(X_train), y_train)
                record["error"] = float(np.mean(knn.predict(model.transform(X_test)) != y_test))
                n_iter = getattr(model, "n_iter_", None)
                record["n_iter"] = None if n_iter is None else int(n_iter)
            except Exception as exc:  # report and go on with the other fits
                record["failure"] = f"{type(exc).__name__}: {exc}"[:300]
            print(json.dumps(record), flush=True)
    """
).replace("ARRAYS", repr(_ARRAYS))


def knn_error(Z_train, y_train, Z_test, y_test, n_neighbors: int = 5) -> float:
    """Test error of a k-NN classifier fitted on the (transformed) training part."""
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(n_neighbors=n_neighbors).fit(Z_train, y_train)
    return float(np.mean(knn.predict(Z_test) != y_test))


def peers_python(venv: Path) -> tuple[Path | None, str]:
    """The peers' interpreter, creating their virtualenv if needed; (None, reason) on failure."""
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    check = [str(python), "-c", "import metric_learn"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python, ""
    print(f"creating {venv} ({', '.join(PEER_REQUIREMENTS)}) ...", file=sys.stderr, flush=True)
    for step in (
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "-q", *PEER_REQUIREMENTS],
    ):
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            message = (done.stderr or done.stdout).strip()[-300:]
            return None, f"`{' '.join(step)}` failed: {message}"
    if subprocess.run(check, capture_output=True).returncode != 0:
        return None, f"metric_learn does not import in {venv}"
    return python, ""


def run_peers(
    venv: Path, splits: dict, *, progress: bool = True, timeout: float | None = None
) -> tuple[list[dict], str]:
    """Fit every peer on every split in the peers' virtualenv.

    ``splits`` maps ``(key, seed)`` (a data set name and the split's seed, which is also the
    peers' ``random_state``) to ``(X_train, X_test, y_train, y_test)``. Returns the records,
    one dict per fit with ``key``, ``seed``, ``method`` (a name in :data:`PEERS`), ``versions``
    and either ``time`` (seconds), ``error`` (5-NN test error) and ``n_iter``, or ``failure``;
    and a problem description ("" when the peers ran). With ``progress`` each fit is reported
    on stderr as it finishes. ``timeout`` (seconds) ends the peers' process; the fits done by
    then are kept.
    """
    python, why = peers_python(venv)
    if python is None:
        return [], why
    records, problem = [], ""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "splits.npz"
        arrays = {
            f"{key}__{seed}__{name}": value
            for (key, seed), split in splits.items()
            for name, value in zip(_ARRAYS, split)
        }
        np.savez(data, **arrays)
        script = Path(tmp) / "peers.py"
        script.write_text(_PEER_SCRIPT)
        jobs = [[key, seed] for key, seed in splits]
        command = [str(python), str(script), str(data), json.dumps(jobs)]
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as p:
            timer = threading.Timer(timeout, p.kill) if timeout is not None else None
            if timer is not None:
                timer.start()
            try:
                stderr_lines: list[str] = []
                drain = threading.Thread(target=lambda: stderr_lines.extend(p.stderr))
                drain.start()  # a full stderr pipe must not block the peers
                for line in p.stdout:  # streamed, to show progress
                    if line.startswith("{"):
                        record = json.loads(line)
                        records.append(record)
                        if progress:
                            status = record.get("failure") or f"{record['time']:.1f} s"
                            print(
                                f"peers: {record['key']} split {record['seed']} "
                                f"{record['method']}: {status}",
                                file=sys.stderr,
                                flush=True,
                            )
                drain.join()
                p.wait()
            finally:
                if timer is not None:
                    timer.cancel()
        if p.returncode != 0:
            stderr = "".join(stderr_lines).strip()[-300:]
            problem = f"peer script exited with {p.returncode}: {stderr}"
    return records, problem
