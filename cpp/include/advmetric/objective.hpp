// The single-level AML objective D(M) (Eqs. 11-12, corrected as in docs/math.md) and its gradient
// (Eq. 15) in the Daleckii-Krein divided-difference form of Eq. 14.
//
//   D(M) = tr(A M) + tr(B M^{-1}) + alpha beta^2 [tr(A h_+(M)) + tr(B h_-(M))]
//   h_+(l) = l^5 / (2 + beta l^2)^2,   h_-(l) = 1 / (l (2 + beta)^2)
//
// Both the value and the gradient are formed in the eigenbasis of M, where A and B enter as
// U^T A U and U^T B U, so the cost is O(d^3) whatever the number of pairs.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "spectral.hpp"
#include "statistics.hpp"

namespace advmetric {

// The adversarial term's spectral functions as they enter D, weighted by alpha beta^2, and their
// exact divided differences. They are written with factors that are bounded for every finite
// l > 0 and every beta,
//   r(l) = 1 / (2 + beta l^2) <= 1/2,
//   P(l) = beta l^2 r(l) = 1 / (1 + 2 / (beta l^2)) < 1,
//   Q(l) = sqrt(beta) l r(l) = 1 / (2 / (sqrt(beta) l) + sqrt(beta) l) <= 1 / (2 sqrt(2)),
// and beta appears nowhere else: neither alpha beta^2 nor a factor can over- or underflow before
// the product that is the result. (Unweighted, l p^2 with p = P / beta underflows for l ~ 1e-75
// at beta = 1e150 before alpha beta^2 ~ 1e300 would multiply it back up.)
struct AdversarialSpectrum {
  double alpha, beta;

  struct Factors {
    double r, P, Q;
  };
  Factors factors(double l) const {
    const double root = std::sqrt(beta), bl2 = beta * l * l;
    return {1 / (2 + bl2), 1 / (1 + 2 / bl2), 1 / (2 / (root * l) + root * l)};
  }

  // alpha beta^2 h_+(l) = alpha beta^2 l^5 / (2 + beta l^2)^2 = alpha l P(l)^2.
  double weighted_h_plus(double l) const {
    const double P = factors(l).P;
    return alpha * l * P * P;
  }
  // alpha beta^2 h_-(l) = minus_weight() / l, h_-(l) = 1 / (l (2 + beta)^2).
  double minus_weight() const {
    const double t = beta / (2 + beta);
    return alpha * t * t;
  }

  // The eigenvalue m > 0 minimising a f(m) + b / m for a, b > 0, f(l) = l + alpha beta^2 h_+(l):
  // D restricted to the matrices with given eigenvectors is a sum of such terms, one per
  // eigenvector (a = u^T A u, b = u^T c B u), so this is D's exact minimiser over the eigenvalues.
  // The stationarity condition is a m^2 f'(m) = b with
  //   f'(m) = 1 + alpha P^2 (1 + 8 r),   (P, r the factors of m; alpha beta^2 h_+' in them)
  // which lies in [1, 1 + 5 alpha]; m^2 f'(m) = (x + alpha x g(x)) / beta with x = beta m^2 and
  // x g(x) = x^3 (10 + x) / (2 + x)^3 increasing, so the root is unique and lies in
  // [sqrt(b / a) / sqrt(1 + 5 alpha), sqrt(b / a)]. Newton's method on
  //   q(u) = 2 u + log(1 + alpha E) - log(b / a),   u = log m,  E = P^2 (1 + 8 r),
  //   q'(u) = 2 + 8 alpha P^2 r (12 r - 1) / (1 + alpha E)   (dP/du = 4 P r, dr/du = -2 P r),
  // kept inside the bracket (bisection when a step would leave it or is not finite), from `start`
  // when that is inside. The factors keep every quantity bounded for any beta; alpha up to the
  // largest double is handled by taking log(1 + alpha E) as log(alpha) + log(E) where alpha E
  // overflows, and q's second term as alpha P^2 / (1 + alpha E) = P^2 / (1 / alpha + E) <= 1.
  double best_eigenvalue(double a, double b, double start) const {
    const double log_ratio = std::log(b) - std::log(a);
    double hi = 0.5 * log_ratio, lo = hi - 0.5 * log_one_plus(alpha, 5);
    if (!(lo < hi)) return std::exp(hi);  // alpha = 0: GMML's own eigenvalue
    double u = std::log(start);
    if (!(u > lo && u < hi)) u = 0.5 * (lo + hi);
    for (int step = 0; step < 100; ++step) {
      const Factors f = factors(std::exp(u));
      const double E = f.P * f.P * (1 + 8 * f.r);
      const double q = 2 * u + log_one_plus(alpha, E) - log_ratio;
      if (q == 0) break;
      if (q < 0) {
        lo = u;
      } else {
        hi = u;
      }
      const double share = f.P * f.P / (1 / alpha + E);  // alpha P^2 / (1 + alpha E), at most 1
      const double slope = 2 + 8 * share * f.r * (12 * f.r - 1);
      double next = u - q / slope;
      const bool newton = std::isfinite(next) && next >= lo && next <= hi;
      if (!newton) next = 0.5 * (lo + hi);
      const bool converged = newton && std::abs(next - u) <= 4 * std::numeric_limits<double>::epsilon() *
                                                                 std::max(1.0, std::abs(u));
      u = next;
      if (converged || !(lo < hi)) break;
    }
    return std::exp(u);
  }

  // log(1 + x y) for x, y >= 0, also where x y overflows.
  static double log_one_plus(double x, double y) {
    const double product = x * y;
    return std::isfinite(product) ? std::log1p(product) : std::log(x) + std::log(y);
  }

  // alpha beta^2 (h_+(a) - h_+(b)) / (a - b), with the subtraction cancelled algebraically:
  //   [4 (a^4 + a^3 b + a^2 b^2 + a b^3 + b^4) + 4 beta a^2 b^2 (a^2 + a b + b^2) + beta^2 a^4 b^4]
  //   / ((2 + beta a^2)^2 (2 + beta b^2)^2),
  // here with every monomial and the weight distributed over the factors r, P, Q of a and b. Every
  // term is positive for a, b > 0, so it is accurate for equal, nearly equal and distant
  // eigenvalues alike; at a == b it is the derivative. No division by an eigenvalue gap. The
  // divided difference of h_- is exact: alpha beta^2 (h_-(a) - h_-(b)) / (a - b) =
  // -minus_weight() / (a b).
  double weighted_divided_plus(const Factors& a, const Factors& b) const {
    const double QQ = a.Q * b.Q;
    return alpha * (4 * (a.P * a.P * b.r * b.r + a.P * QQ * b.r + a.P * b.P * a.r * b.r + b.P * QQ * a.r +
                         b.P * b.P * a.r * a.r) +
                    4 * a.P * b.P * (a.P * b.r + QQ + b.P * a.r) + a.P * a.P * b.P * b.P);
  }
};

// Gradient kernels in the eigenbasis: the gradient of one pair's loss xh^T f(M) xh is
// U (K o (z z^T)) U^T with z = U^T xh, where K_jk is the divided difference of
//   similar pairs:     f(l) = l + alpha beta^2 h_+(l)
//   dissimilar pairs:  f(l) = 1/l + alpha beta^2 h_-(l)
struct GradientKernels {
  Matrix similar, dissimilar;
};

inline void gradient_kernels_into(GradientKernels& K, const Vector& l, double alpha, double beta) {
  const AdversarialSpectrum h{alpha, beta};
  const double dissimilar_weight = 1 + h.minus_weight();
  const Index d = l.size();
  std::vector<AdversarialSpectrum::Factors> f(static_cast<size_t>(d));
  for (Index j = 0; j < d; ++j) f[j] = h.factors(l[j]);
  K.similar.resize(d, d);
  K.dissimilar.resize(d, d);
  for (Index k = 0; k < d; ++k) {
    for (Index j = 0; j < d; ++j) {
      K.similar(j, k) = 1 + h.weighted_divided_plus(f[j], f[k]);
      K.dissimilar(j, k) = -dissimilar_weight * (1 / l[j]) * (1 / l[k]);
    }
  }
}

inline GradientKernels gradient_kernels(const Vector& l, double alpha, double beta) {
  GradientKernels K;
  gradient_kernels_into(K, l, alpha, beta);
  return K;
}

// A scatter matrix together with its Cholesky factor when it is positive definite, which makes
// the per-iteration congruence U^T S U cheaper (see to_basis_factored_into).
class ScatterOperand {
 public:
  explicit ScatterOperand(Matrix S) : S_(std::move(S)), factor_(cholesky_lower(S_)) {}
  // With its lower Cholesky factor already at hand.
  ScatterOperand(Matrix S, Matrix factor) : S_(std::move(S)), factor_(std::move(factor)) {}
  // out = U^T S U; `work` is scratch. With `lower_only` only the lower triangle is guaranteed.
  void in_basis_into(Matrix& out, Matrix& work, const Matrix& U, bool lower_only = false) const {
    if (factor_) {
      to_basis_factored_into(out, work, *factor_, U, lower_only);
    } else {
      to_basis_into(out, work, U, S_);
    }
  }
  const Matrix& matrix() const { return S_; }
  // Whether S had a Cholesky factor: then it is positive definite, which settles S's own check.
  bool factored() const { return factor_.has_value(); }

 private:
  Matrix S_;
  std::optional<Matrix> factor_;
};

struct Evaluation {
  bool feasible = false;  // M positive definite and D(M) finite
  double value = std::numeric_limits<double>::infinity();
  double relative_gradient = std::numeric_limits<double>::infinity();
  Matrix gradient;  // left as it was unless requested and feasible
};

inline bool positive_definite(const Vector& eigenvalues) {
  return eigenvalues.allFinite() && eigenvalues.minCoeff() > 0;
}

// Evaluates D(M) and, on request, grad D(M) and the scale-free stationarity measure
// ||M^{1/2} grad D M^{1/2}||_F / D(M); an M that is not positive definite is infeasible. Holds
// its scratch matrices so that repeated evaluations (the solver loop) allocate nothing.
class Evaluator {
 public:
  Evaluator(const ScatterOperand& A, const ScatterOperand& B, double alpha, double beta)
      : A_(A), B_(B), alpha_(alpha), beta_(beta) {}

  // With `basis` = T, the gradient is taken with respect to X for M = T X T^T: T^T grad D T.
  void operator()(const Matrix& M, bool with_gradient, Evaluation& out, const Matrix* basis = nullptr) {
    if (!decompose(M)) {
      out.feasible = false;
      out.value = out.relative_gradient = std::numeric_limits<double>::infinity();
      return;
    }
    evaluate_decomposed(with_gradient ? Detail::kGradient : Detail::kValue, out, basis);
  }

  // How much `evaluate_decomposed` computes: D; D and the relative gradient; or those and the
  // gradient itself (the one part that costs O(d^3), a congruence).
  enum class Detail { kValue, kStationarity, kGradient };

  // M's eigensystem and U^T A U, U^T B U (lower triangles), kept for `evaluate_decomposed`; false
  // when M is not finite or not positive definite.
  bool decompose(const Matrix& M) {
    last_ = nullptr;
    if (!M.allFinite()) return false;
    last_ = &eigensolver_.compute(M);
    if (!positive_definite(last_->values)) return false;
    A_.in_basis_into(A_eig_, work_, last_->vectors, true);
    B_.in_basis_into(B_eig_, work_, last_->vectors, true);
    return true;
  }

  // Gives the decomposed M new eigenvalues, M -> U diag(values) U^T (the eigenvalue step of the
  // Newton solver, `best_eigenvalues`): U^T A U and U^T B U stand, so the next
  // `evaluate_decomposed` is D at the new M without another eigendecomposition. The values need
  // not be ascending (nothing downstream relies on the order).
  void set_eigenvalues(const Vector& values) { eigensolver_.result().values = values; }

  // D (and its gradient) at the decomposed M. The gradient is with respect to X for M = T X T^T
  // given `basis` = T, or given `rotation` = T^T U directly; otherwise with respect to M.
  void evaluate_decomposed(Detail detail, Evaluation& out, const Matrix* basis = nullptr,
                           const Matrix* rotation = nullptr) {
    out.feasible = false;
    out.value = out.relative_gradient = std::numeric_limits<double>::infinity();
    const Vector& l = last_->values;
    const Matrix& U = last_->vectors;
    const AdversarialSpectrum h{alpha_, beta_};
    const double dissimilar_weight = 1 + h.minus_weight();  // 1 / l + alpha beta^2 h_-(l) = this / l
    double value = 0;
    for (Index j = 0; j < l.size(); ++j) {
      value += A_eig_(j, j) * (l[j] + h.weighted_h_plus(l[j])) + B_eig_(j, j) * (dissimilar_weight / l[j]);
    }
    if (!std::isfinite(value)) return;
    out.feasible = true;
    out.value = value;
    if (detail == Detail::kValue) return;

    // The eigenbasis gradient G = K_similar o A_eig + K_dissimilar o B_eig (lower triangle, its
    // diagonal halved for the congruence below) and the stationarity measure, in one pass. The
    // measure's entries sqrt(l_j l_k) G_jk are bounded by about |D|, so dividing by |D| before
    // squaring cannot overflow.
    const Index d = l.size();
    factors_.resize(static_cast<size_t>(d));
    root_.resize(d);
    inverse_.resize(d);
    for (Index j = 0; j < d; ++j) {
      factors_[j] = h.factors(l[j]);
      root_[j] = std::sqrt(l[j]);
      inverse_[j] = 1 / l[j];
    }
    const double inverse_value = 1 / std::abs(value);
    G_half_.resize(d, d);
    double squares = 0;
    for (Index k = 0; k < d; ++k) {
      for (Index j = k; j < d; ++j) {
        const double g = A_eig_(j, k) * (1 + h.weighted_divided_plus(factors_[j], factors_[k])) -
                         B_eig_(j, k) * (dissimilar_weight * inverse_[j] * inverse_[k]);
        const double e = root_[j] * root_[k] * g * inverse_value;
        squares += j == k ? e * e : 2 * e * e;
        G_half_(j, k) = j == k ? 0.5 * g : g;
      }
    }
    out.relative_gradient = std::sqrt(squares);
    if (detail == Detail::kStationarity) return;
    // grad D = U G U^T, or T^T U G U^T T with respect to X for M = T X T^T.
    if (basis) {
      multiply_into(rotation_, *basis, true, U, false);
      congruence_of_half_lower_into(out.gradient, work_, rotation_, G_half_);
    } else if (rotation) {
      rotation_ = *rotation;
      congruence_of_half_lower_into(out.gradient, work_, rotation_, G_half_);
    } else {
      congruence_of_half_lower_into(out.gradient, work_, U, G_half_);
    }
  }

  // The eigenvalue step for the decomposed M = U diag(l) U^T: the eigenvalues m minimising
  // D(U diag(m) U^T), one AdversarialSpectrum::best_eigenvalue per eigenvector with
  // a = (U^T A U)_jj and b = c (U^T B U)_jj. Where a or b is not positive (a singular A or B
  // without a ridge) the eigenvalue is kept.
  Vector best_eigenvalues() const {
    const Vector& l = last_->values;
    const AdversarialSpectrum h{alpha_, beta_};
    const double dissimilar_weight = 1 + h.minus_weight();
    Vector m = l;
    for (Index j = 0; j < l.size(); ++j) {
      const double a = A_eig_(j, j), b = dissimilar_weight * B_eig_(j, j);
      if (a > 0 && b > 0 && std::isfinite(a) && std::isfinite(b)) {
        const double best = h.best_eigenvalue(a, b, l[j]);
        if (std::isfinite(best) && best > 0) m[j] = best;
      }
    }
    return m;
  }

  // What the last evaluation computed and the Newton solver (newton.hpp) reuses, valid after a
  // feasible evaluation until the next one: M's eigensystem, the lower triangles of U^T A U and
  // U^T B U, and, when the gradient was asked for, the gradient in the eigenbasis and (with a basis
  // T) T^T U.
  const Eigensystem& eigensystem() const { return *last_; }
  const Matrix& A_in_eigenbasis() const { return A_eig_; }
  const Matrix& B_in_eigenbasis() const { return B_eig_; }
  const Matrix& basis_rotation() const { return rotation_; }
  // The gradient U^T grad D U: its lower triangle, the diagonal halved.
  const Matrix& half_gradient_in_eigenbasis() const { return G_half_; }

 private:
  const ScatterOperand& A_;
  const ScatterOperand& B_;
  double alpha_, beta_;
  SymmetricEigensolver eigensolver_;
  const Eigensystem* last_ = nullptr;
  Matrix work_, A_eig_, B_eig_, G_half_, rotation_;
  std::vector<AdversarialSpectrum::Factors> factors_;
  Vector root_, inverse_;
};

inline Evaluation evaluate(const Matrix& M, const ScatterOperand& A, const ScatterOperand& B, double alpha,
                           double beta, bool with_gradient) {
  Evaluator evaluator(A, B, alpha, beta);
  Evaluation out;
  evaluator(M, with_gradient, out);
  return out;
}

// Eq. 13 evaluated pair by pair: every pair's gradient term K_y o (z z^T) is formed on its own and
// summed (a per-thread reduction in the eigenbasis, then one rotation back). O(N d^2); kept as an
// independent check of the aggregated gradient in `evaluate`.
template <class Pairs>
Matrix gradient_pairwise(const Matrix& M, const Pairs& pairs, const std::int8_t* labels, double alpha,
                         double beta, int n_threads) {
  const Eigensystem eig = eigensystem(M);
  if (!positive_definite(eig.values)) throw std::domain_error("M must be symmetric positive definite");
  const Matrix& U = eig.vectors;
  const GradientKernels K = gradient_kernels(eig.values, alpha, beta);
  const Index n = pairs.size(), d = pairs.dim();
  const int threads = thread_count(n_threads, n, min_items_for(2.0 * d * d));
  std::vector<Matrix> partial(threads);

#pragma omp parallel num_threads(threads)
  {
    const int t = this_thread();
    const auto [begin, end] = thread_range(n, t, team_size());
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
  for (const Matrix& p : partial) {
    if (p.size() > 0) G_eig += p;  // empty when the team was smaller than requested
  }
  return symmetrized(from_basis(U, G_eig));
}

}  // namespace advmetric
