"""
Sensitivity to alpha and beta (paper Section 3.4, Fig. 5)
=========================================================

``alpha`` weighs the loss on the adversarial pairs (``alpha = 0`` is GMML); ``beta`` weighs how
close the adversarial pairs must stay to the originals. The paper reports that test error falls as
alpha grows to 1 and is lowest near ``beta = 0.8``. Here is a small version of that sweep on
scikit-learn's digits (one 80/20 split, standardised), with 5-NN train (leave-one-out) and test
error. The full sweep over 5 splits is ``python examples/sensitivity.py --splits 5``; on digits
every setting lies within about one test error of the others, so the paper's trends are not
visible there (see :doc:`/reproducing`).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

from advmetric import AML_Supervised

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)


def errors(alpha, beta):
    model = AML_Supervised(alpha=alpha, beta=beta, random_state=0).fit(X_train, y_train)
    Z_train, Z_test = model.transform(X_train), model.transform(X_test)
    # leave-one-out training error: ask for 6 neighbours and drop each point itself
    knn = KNeighborsClassifier(n_neighbors=5).fit(Z_train, y_train)
    neighbours = knn.kneighbors(Z_train, n_neighbors=6, return_distance=False)[:, 1:]
    votes = y_train[neighbours]
    loo = np.array([np.bincount(v, minlength=10).argmax() for v in votes])
    return np.mean(loo != y_train), 1.0 - knn.score(Z_test, y_test)


alphas = [0.0, 0.01, 0.1, 1.0, 10.0, 100.0]
betas = [0.01, 0.1, 0.8, 1.0, 10.0, 100.0]
by_alpha = np.array([errors(alpha, 1.0) for alpha in alphas])
by_beta = np.array([errors(1.0, beta) for beta in betas])
for alpha, (train, test) in zip(alphas, by_alpha):
    print(f"alpha {alpha:7g}, beta 1:   train {train:.4f}  test {test:.4f}")
for beta, (train, test) in zip(betas, by_beta):
    print(f"alpha 1, beta {beta:7g}:   train {train:.4f}  test {test:.4f}")

# %%
# One test error on this split is ``1/360 = 0.0028``: differences smaller than that are noise.

fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
positions = np.arange(len(alphas))
for ax, values, labels, name in [
    (axes[0], by_alpha, alphas, "alpha (beta = 1)"),
    (axes[1], by_beta, betas, "beta (alpha = 1)"),
]:
    ax.plot(positions, values[:, 0], "o-", label="train (leave-one-out)")
    ax.plot(positions, values[:, 1], "s-", label="test")
    ax.set_xticks(positions, [f"{v:g}" for v in labels])
    ax.set_xlabel(name)
    ax.grid(alpha=0.3)
axes[0].set_ylabel("5-NN error")
axes[0].legend(fontsize=8)
fig.suptitle("AML on digits: error as alpha and beta vary")
fig.tight_layout()
plt.show()
