"""Summaries and markdown tables shared by the experiment scripts in this folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import stats


def mean_std(values, digits: int = 3) -> str:
    """``mean ± std`` (ddof = 1; 0 for a single value), "-" for no values."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return "-"
    std = values.std(ddof=1) if values.size > 1 else 0.0
    return f"{values.mean():.{digits}f} ± {std:.{digits}f}"


def paired_comparison(ours, theirs) -> dict:
    """Wins/ties/losses of ``ours`` (lower error wins), mean difference ours - theirs, and the
    two-sided Wilcoxon signed-rank (ties dropped) and sign-test p-values."""
    diff = np.asarray(ours, dtype=float) - np.asarray(theirs, dtype=float)
    wins, ties, losses = int(np.sum(diff < 0)), int(np.sum(diff == 0)), int(np.sum(diff > 0))
    if wins + losses == 0:  # every pair tied: no evidence either way
        wilcoxon_p = sign_p = 1.0
    else:
        wilcoxon_p = float(stats.wilcoxon(diff, zero_method="wilcox").pvalue)
        sign_p = float(stats.binomtest(wins, wins + losses, 0.5).pvalue)
    return {
        "wins": wins,
        "ties": ties,
        "losses": losses,
        "mean_diff": float(diff.mean()),
        "wilcoxon_p": wilcoxon_p,
        "sign_p": sign_p,
    }


def markdown_table(header, rows) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def publish(lines: list[str], path: Path) -> None:
    """Print the report and write it, as markdown, to ``path``."""
    report = "\n".join(lines) + "\n"
    print(report, end="")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report)
    print(f"(written to {path})")
