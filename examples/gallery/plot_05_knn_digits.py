"""
k-NN on digits: learned metric vs Euclidean
===========================================

The everyday use of a supervised metric learner: put it in a scikit-learn pipeline in front of a
k-nearest-neighbour classifier. Here :class:`advmetric.AML_Supervised` and
:class:`advmetric.GMML_Supervised` learn from the class labels (sampling pairs of the same and of
different classes) and the k-NN classifier works in the learned space.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from advmetric import AML_Supervised, GMML_Supervised

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=1)

ks = [1, 3, 5, 9, 15]
results = {}
for name, learner in [
    ("Euclidean", None),
    ("GMML", GMML_Supervised(random_state=0)),
    ("AML", AML_Supervised(alpha=1.0, beta=0.8, random_state=0)),
]:
    steps = [StandardScaler()] + ([learner] if learner is not None else [])
    errors = []
    for k in ks:
        model = make_pipeline(*steps, KNeighborsClassifier(n_neighbors=k))
        model.fit(X_train, y_train)
        errors.append(1.0 - model.score(X_test, y_test))
    results[name] = errors
    print(name.ljust(10), " ".join(f"k={k}: {e:.3f}" for k, e in zip(ks, errors)))

# %%
# Test error against k, and the learned Mahalanobis matrix (on standardised pixels). One test
# error is 1/540 = 0.0019 here. Digits is an easy data set for k-NN: on this split the learned
# metrics are not better than the Euclidean one, and AML and GMML are within a few test errors of
# each other. Over 20 splits (:doc:`/reproducing`) both learned metrics are slightly better than
# Euclidean on digits (0.022 against 0.027), and tied with each other.

aml = make_pipeline(StandardScaler(), AML_Supervised(random_state=0)).fit(X_train, y_train)
M = aml[-1].get_mahalanobis_matrix()

fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for name, errors in results.items():
    axes[0].plot(ks, errors, "o-", label=name)
axes[0].set_xlabel("k (neighbours)")
axes[0].set_ylabel("test error")
axes[0].legend()
axes[0].grid(alpha=0.3)
limit = np.abs(M).max()
image = axes[1].imshow(M, cmap="RdBu_r", vmin=-limit, vmax=limit)
axes[1].set_title("AML's M (64 x 64 pixels)")
fig.colorbar(image, ax=axes[1], shrink=0.8)
fig.tight_layout()
plt.show()
