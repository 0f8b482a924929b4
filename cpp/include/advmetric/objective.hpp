// The single-level AML objective D(M) (Eqs. 11-12, corrected as in MATH.md) and its gradient
// (Eq. 15) in the Daleckii-Krein divided-difference form of Eq. 14.
//
//   D(M) = tr(A M) + tr(B M^{-1}) + alpha beta^2 [tr(A h_+(M)) + tr(B h_-(M))]
//   h_+(l) = l^5 / (2 + beta l^2)^2,   h_-(l) = 1 / (l (2 + beta)^2)
//
// Both the value and the gradient are formed in the eigenbasis of M, where A and B enter as
// U^T A U and U^T B U, so the cost is O(d^3) whatever the number of pairs.
#pragma once

#include <cmath>
#include <limits>
#include <vector>

#include "spectral.hpp"
#include "statistics.hpp"

namespace advmetric {

// The spectral functions of the adversarial term and their exact divided differences.
struct AdversarialSpectrum {
  double beta;

  double h_plus(double l) const {
    const double q = 2 + beta * l * l;
    return l * l * l * l * l / (q * q);
  }
  double h_minus(double l) const { return 1 / (l * (2 + beta) * (2 + beta)); }

  // (h_+(a) - h_+(b)) / (a - b), with the subtraction cancelled algebraically:
  //   [4 (a^4 + a^3 b + a^2 b^2 + a b^3 + b^4) + 4 beta a^2 b^2 (a^2 + a b + b^2) + beta^2 a^4 b^4]
  //   / ((2 + beta a^2)^2 (2 + beta b^2)^2).
  // Every term is positive for a, b > 0, so it is accurate for equal, nearly equal and distant
  // eigenvalues alike; at a == b it is h_+'(a). No division by an eigenvalue gap.
  double divided_plus(double a, double b) const {
    const double a2 = a * a, b2 = b * b, ab = a * b;
    const double qa = 2 + beta * a2, qb = 2 + beta * b2;
    const double num = 4 * (a2 * a2 + a2 * ab + ab * ab + ab * b2 + b2 * b2) +
                       4 * beta * ab * ab * (a2 + ab + b2) + beta * beta * ab * ab * ab * ab;
    return num / (qa * qa * qb * qb);
  }
  // (h_-(a) - h_-(b)) / (a - b) = -1 / (a b (2 + beta)^2), exact.
  double divided_minus(double a, double b) const { return -1 / (a * b * (2 + beta) * (2 + beta)); }
};

// Gradient kernels in the eigenbasis: the gradient of one pair's loss xh^T f(M) xh is
// U (K o (z z^T)) U^T with z = U^T xh, where K_jk is the divided difference of
//   similar pairs:     f(l) = l + alpha beta^2 h_+(l)
//   dissimilar pairs:  f(l) = 1/l + alpha beta^2 h_-(l)
struct GradientKernels {
  Matrix similar, dissimilar;
};

inline GradientKernels gradient_kernels(const Vector& l, double alpha, double beta) {
  const AdversarialSpectrum h{beta};
  const double w = alpha * beta * beta;
  const Index d = l.size();
  GradientKernels K{Matrix(d, d), Matrix(d, d)};
  for (Index k = 0; k < d; ++k) {
    for (Index j = 0; j < d; ++j) {
      K.similar(j, k) = 1 + w * h.divided_plus(l[j], l[k]);
      K.dissimilar(j, k) = -1 / (l[j] * l[k]) + w * h.divided_minus(l[j], l[k]);
    }
  }
  return K;
}

// A scatter matrix together with its Cholesky factor when it is positive definite, which makes
// the per-iteration congruence U^T S U cheaper (see to_basis_factored).
class ScatterOperand {
 public:
  explicit ScatterOperand(Matrix S) : S_(std::move(S)), factor_(cholesky_lower(S_)) {}
  Matrix in_basis(const Matrix& U) const {
    return factor_ ? to_basis_factored(*factor_, U) : to_basis(U, S_);
  }
  const Matrix& matrix() const { return S_; }

 private:
  Matrix S_;
  std::optional<Matrix> factor_;
};

struct Evaluation {
  bool feasible = false;  // M positive definite and D(M) finite
  double value = std::numeric_limits<double>::infinity();
  double relative_gradient = std::numeric_limits<double>::infinity();
  Matrix gradient;  // empty unless requested
};

inline bool positive_definite(const Vector& eigenvalues) {
  return eigenvalues.allFinite() && eigenvalues.minCoeff() > 0;
}

// D(M) and, on request, grad D(M) and the scale-free stationarity measure
// ||M^{1/2} grad D M^{1/2}||_F / D(M). An M that is not positive definite is infeasible.
inline Evaluation evaluate(const Matrix& M, const ScatterOperand& A, const ScatterOperand& B, double alpha,
                           double beta, bool with_gradient) {
  Evaluation out;
  if (!M.allFinite()) return out;
  const Eigensystem eig = eigensystem(M);
  const Vector& l = eig.values;
  const Matrix& U = eig.vectors;
  if (!positive_definite(l)) return out;

  const Matrix A_eig = A.in_basis(U);
  const Matrix B_eig = B.in_basis(U);
  const AdversarialSpectrum h{beta};
  const double w = alpha * beta * beta;
  double value = 0;
  for (Index j = 0; j < l.size(); ++j) {
    value += A_eig(j, j) * (l[j] + w * h.h_plus(l[j])) + B_eig(j, j) * (1 / l[j] + w * h.h_minus(l[j]));
  }
  if (!std::isfinite(value)) return out;
  out.feasible = true;
  out.value = value;
  if (!with_gradient) return out;

  const GradientKernels K = gradient_kernels(l, alpha, beta);
  const Matrix G_eig = A_eig.cwiseProduct(K.similar) + B_eig.cwiseProduct(K.dissimilar);
  out.gradient = symmetrized(from_basis(U, G_eig));
  const Vector root = l.cwiseSqrt();
  out.relative_gradient = (root.asDiagonal() * G_eig * root.asDiagonal()).norm() / std::abs(value);
  return out;
}

// Eq. 13 evaluated pair by pair: every pair's gradient term K_y o (z z^T) is formed on its own and
// summed (a per-thread reduction in the eigenbasis, then one rotation back). O(N d^2); kept as an
// independent check of the aggregated gradient in `evaluate`.
template <class Pairs>
Matrix gradient_pairwise(const Matrix& M, const Pairs& pairs, const std::int8_t* labels, double alpha,
                         double beta, int n_threads) {
  const Eigensystem eig = eigensystem(M);
  if (!positive_definite(eig.values)) throw std::domain_error("M must be positive definite");
  const Matrix& U = eig.vectors;
  const GradientKernels K = gradient_kernels(eig.values, alpha, beta);
  const Index n = pairs.size(), d = pairs.dim();
  const int threads = thread_count(n_threads, n, 64);
  std::vector<Matrix> partial(threads);

#pragma omp parallel num_threads(threads)
  {
    const int t = this_thread();
    const auto [begin, end] = thread_range(n, t, threads);
    Matrix acc = Matrix::Zero(d, d);
    Vector diff(d), z(d);
    for (Index i = begin; i < end; ++i) {
      pair_difference(pairs, i, diff.data());
      z.noalias() = U.transpose() * diff;
      const Matrix& kernel = labels[i] > 0 ? K.similar : K.dissimilar;
      for (Index k = 0; k < d; ++k) {
        for (Index j = 0; j < d; ++j) acc(j, k) += kernel(j, k) * z[j] * z[k];
      }
    }
    partial[t] = std::move(acc);
  }
  Matrix G_eig = Matrix::Zero(d, d);
  for (const Matrix& p : partial) G_eig += p;
  return symmetrized(from_basis(U, G_eig));
}

}  // namespace advmetric
