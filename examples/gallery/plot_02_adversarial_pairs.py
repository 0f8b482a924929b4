"""
What adversarial pairs look like
================================

AML's confusion stage replaces every training pair ``(x, x')`` by the pair ``(pi, pi')`` that the
current metric finds hardest to classify, while staying close to the original (the weight of that
closeness is ``beta``). The pair keeps its midpoint, ``pi + pi' = x + x'``; only its difference
changes (Eq. 9 of the paper, derived in :doc:`/math`):

* a **dissimilar** pair is pulled together: ``pi - pi' = beta / (2 + beta) (x - x')``;
* a **similar** pair is pushed apart along the directions the metric finds short:
  ``pi - pi' = U diag(beta l^2 / (2 + beta l^2)) U^T (x - x')`` with ``M = U diag(l) U^T``.

Below, 2-D pairs, a metric learned by :class:`advmetric.AML`, and the pairs that
:meth:`advmetric.AML.adversarial_pairs` generates from them.
"""

import matplotlib.pyplot as plt
import numpy as np

from advmetric import AML

rng = np.random.default_rng(0)
n = 40
centres = rng.uniform(-4, 4, size=(n, 2))
# similar pairs differ mostly along the first axis, dissimilar ones mostly along the second
similar = np.stack([centres, centres + rng.normal(scale=[1.2, 0.3], size=(n, 2))], axis=1)
dissimilar = np.stack([centres, centres + rng.normal(scale=[0.6, 2.5], size=(n, 2))], axis=1)
pairs = np.concatenate([similar, dissimilar])
y = np.concatenate([np.ones(n, dtype=int), -np.ones(n, dtype=int)])

model = AML(alpha=1.0, beta=1.0).fit(pairs, y)
adversarial = model.adversarial_pairs(pairs, y)
M = model.get_mahalanobis_matrix()
print("learned M:\n", np.round(M, 3))

# %%
# Originals (grey) and their adversarial pairs (colour), one segment per pair. The midpoints
# coincide; the dissimilar pairs shrink by ``beta / (2 + beta) = 1/3``, the similar pairs shrink
# most along the axis where M is small (where differences look short to the metric).

fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), sharex=True, sharey=True)
for ax, kind, colour in [(axes[0], 1, "tab:green"), (axes[1], -1, "tab:red")]:
    for original, generated in zip(pairs[y == kind][:25], adversarial[y == kind][:25]):
        ax.plot(*original.T, color="0.7", lw=1, marker="o", ms=3)
        ax.plot(*generated.T, color=colour, lw=2, marker="o", ms=3)
    ax.plot([], [], color="0.7", marker="o", label="original pair")
    ax.plot([], [], color=colour, marker="o", lw=2, label="adversarial pair")
    ax.set_title("similar pairs" if kind == 1 else "dissimilar pairs")
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=8)
fig.suptitle(f"Adversarial pairs of AML (alpha = 1, beta = 1); M diagonal {np.diag(M).round(2)}")
fig.tight_layout()

# %%
# The shrink factors can be checked against the closed form:

difference = pairs[:, 0] - pairs[:, 1]
generated_difference = adversarial[:, 0] - adversarial[:, 1]
ratio = np.linalg.norm(generated_difference[y == -1], axis=1) / np.linalg.norm(
    difference[y == -1], axis=1
)
print("dissimilar pairs: |pi - pi'| / |x - x'| =", np.unique(ratio.round(12)))
print("midpoints kept:", np.allclose(adversarial.sum(axis=1), pairs.sum(axis=1)))
plt.show()
