"""
Pair verification: ROC curve and calibrated thresholds
======================================================

A pair learner answers "same class or not?" for a pair of examples by thresholding the learned
distance. :meth:`advmetric.AML.decision_function` gives the score (minus the distance), which is
all a ROC curve needs; :meth:`advmetric.AML.calibrate_threshold` chooses the threshold that
:meth:`~advmetric.AML.predict` uses, on held-out pairs, with one of four strategies:

* ``"accuracy"`` — the most correct answers;
* ``"f_beta"`` — the best F-beta score of the "similar" class (``beta`` weighs recall);
* ``"max_tpr"`` — the highest true-positive rate with a true-negative rate of at least ``min_rate``;
* ``"max_tnr"`` — the highest true-negative rate with a true-positive rate of at least ``min_rate``.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from advmetric import AML

X, labels = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
rng = np.random.default_rng(0)


def make_pairs(index, n_pairs):
    """Random pairs of rows from ``index``; half of them of the same class."""
    first = rng.choice(index, size=n_pairs)
    second = np.empty_like(first)
    for i, row in enumerate(first):
        same = i % 2 == 0
        pool = index[(labels[index] == labels[row]) == same]
        second[i] = rng.choice(pool)
    pairs = np.stack([X[first], X[second]], axis=1)
    return pairs, np.where(labels[first] == labels[second], 1, -1)


people = np.arange(len(X))
train_rows, rest = train_test_split(people, test_size=0.5, random_state=0)
calibration_rows, test_rows = train_test_split(rest, test_size=0.5, random_state=0)
train_pairs, y_train = make_pairs(train_rows, 4000)
calibration_pairs, y_calibration = make_pairs(calibration_rows, 1000)
test_pairs, y_test = make_pairs(test_rows, 2000)

model = AML(alpha=1.0, beta=0.8).fit(train_pairs, y_train)
print(f"ROC AUC on test pairs: AML {model.score(test_pairs, y_test):.3f}, ", end="")
euclidean_score = -np.linalg.norm(test_pairs[:, 0] - test_pairs[:, 1], axis=1)
print(f"Euclidean {roc_auc_score(y_test, euclidean_score):.3f}")

# %%
# Each strategy picks its threshold on the calibration pairs; the markers show where that
# threshold lands on the test pairs' ROC curve. With half of the pairs similar, accuracy and F1
# pick the same threshold here, so their markers coincide. The constrained strategies hold their
# rate on the calibration pairs; on the test pairs it can fall slightly short.

strategies = {
    "accuracy": {},
    "f_beta (beta=1)": {"strategy": "f_beta", "beta": 1.0},
    "max_tpr (TNR >= 0.95)": {"strategy": "max_tpr", "min_rate": 0.95},
    "max_tnr (TPR >= 0.95)": {"strategy": "max_tnr", "min_rate": 0.95},
}
fig, ax = plt.subplots(figsize=(5.5, 5))
fpr, tpr, _ = roc_curve(y_test, model.decision_function(test_pairs))
ax.plot(fpr, tpr, color="k", label="AML")
fpr_e, tpr_e, _ = roc_curve(y_test, euclidean_score)
ax.plot(fpr_e, tpr_e, color="0.6", ls="--", label="Euclidean")
for (name, params), marker in zip(strategies.items(), "osD^"):
    model.calibrate_threshold(calibration_pairs, y_calibration, **params)
    predicted = model.predict(test_pairs)
    test_tpr = np.mean(predicted[y_test == 1] == 1)
    test_fpr = np.mean(predicted[y_test == -1] == 1)
    accuracy = np.mean(predicted == y_test)
    print(
        f"{name:22} threshold {model.threshold_:8.3f}: "
        f"TPR {test_tpr:.3f}, FPR {test_fpr:.3f}, accuracy {accuracy:.3f}"
    )
    ax.plot(test_fpr, test_tpr, marker, ms=9, label=name)
ax.set_xlabel("false-positive rate")
ax.set_ylabel("true-positive rate")
ax.set_title("Same digit or not? Test pairs")
ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
plt.show()
