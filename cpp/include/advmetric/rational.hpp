// D(M) and grad D(M) without an eigendecomposition: every spectral function in D is rational in M,
// so Cholesky factorizations, inverses and products evaluate it. This serves one-off evaluations
// (the array API), where the eigendecomposition would be most of the cost; the solvers keep the
// eigenbasis evaluation of objective.hpp, whose eigensystem their steps reuse.
//
// With gamma = 2 / beta, the scaled S = M / sqrt(gamma), N = S^2 + I and P = N^{-1} S^2
// (eigenvalues l^2 / (l^2 + gamma) in [0, 1)), the adversarial term is
// alpha beta^2 h_+(M) = alpha M P^2, so
//   D(M) = tr(A M) + c tr(B M^{-1}) + alpha tr(P A P M),   c = 1 + alpha (beta / (2 + beta))^2.
// The gradient follows by differentiating the products (P commutes with M):
//   dP = N^{-1} (dS S + S dS) N^{-1},
//   grad tr(A P M P) = P A P + S K + K S,  K = N^{-1} (A P S + S P A) N^{-1},
//   grad tr(B M^{-1}) = -M^{-1} B M^{-1}.
// docs/math.md derives both. Working with S keeps every intermediate at the scale of its result:
// nothing divides by an eigenvalue gap, squares beta, or multiplies an underflowed factor back up.
//
// Accuracy: inverting N costs about cond(N) unit roundoffs, where the eigenbasis route costs about
// cond(M) for the inverse term only. So this route declines (returns nothing) unless M and N are
// well conditioned (bounds below); it also declines at large d and when gamma or a result is not
// finite. The caller then evaluates in M's eigenbasis, which also words the error for an M that is
// not positive definite.
#pragma once

#include <cmath>
#include <optional>

#include "blas.hpp"
#include "objective.hpp"

namespace advmetric {

// Reciprocal condition numbers (1-norm) down to which the rational route's relative error stays
// near the eigenbasis route's (benchmarks/accuracy.py measures both against a 40-digit evaluation;
// tests/test_rational_route.py checks the route against exact rational arithmetic).
constexpr double kRationalMinRcondM = 1e-8;
constexpr double kRationalMinRcondN = 1e-3;

// The route is taken below this dimension. The eigendecomposition's share of an eigenbasis
// evaluation shrinks as d grows, while this route's dozen products do not; the gradients of the
// two routes cost about the same between d = 256 and 384 on the machine where this was measured
// (asv ObjectiveRoutes re-measures it).
constexpr Index kRationalBelowDim = 384;

namespace detail {
// sum_jk X_jk Y_kj = tr(X Y).
inline double trace_of_product(const Matrix& X, const Matrix& Y) {
  return (X.array() * Y.transpose().array()).sum();
}

inline double one_norm(const Matrix& X) { return X.cwiseAbs().colwise().sum().maxCoeff(); }

// S^{-1} when S is positive definite with 1-norm condition number ||S|| ||S^{-1}|| at most
// 1 / min_rcond; nothing otherwise. The inverse is needed anyway, so the condition number comes
// exactly from it, where a LAPACK estimate would cost more than the inverse at small d.
inline std::optional<Matrix> well_conditioned_inverse(const Matrix& S, double min_rcond) {
  std::optional<Matrix> inverse = positive_definite_inverse(S);
  if (!inverse || !(one_norm(S) * one_norm(*inverse) * min_rcond <= 1)) return std::nullopt;  // NaN too
  return inverse;
}
}  // namespace detail

// D(M) and, on request, grad D(M) (in Evaluation::gradient; relative_gradient is not computed), or
// nothing when M or N is not positive definite or not well enough conditioned for this route, or a
// result is not finite. M^{-1} and N^{-1} are formed explicitly: both are well conditioned here, and
// products with them cost less than triangular solves with d right-hand sides at the sizes where a
// one-off evaluation's cost matters.
inline std::optional<Evaluation> evaluate_rational(const Matrix& M, const Matrix& A, const Matrix& B,
                                                   double alpha, double beta, bool with_gradient) {
  const Index d = M.rows();
  const double root_gamma = std::sqrt(2 / beta);
  const double ratio = beta / (2 + beta);
  const double c = 1 + alpha * ratio * ratio;
  if (d == 0 || d >= kRationalBelowDim || !std::isfinite(root_gamma) || !std::isfinite(c))
    return std::nullopt;
  const std::optional<Matrix> M_inverse_or = detail::well_conditioned_inverse(M, kRationalMinRcondM);
  if (!M_inverse_or) return std::nullopt;
  const Matrix& M_inverse = *M_inverse_or;

  ++work_counters().objective_evaluations;
  double value = detail::trace_of_product(A, M) + c * detail::trace_of_product(B, M_inverse);
  Matrix S, N_inverse, P, AP, PAP;
  if (alpha > 0) {
    S = M / root_gamma;
    Matrix S_squared = Matrix::Zero(d, d);
    add_gram_lower(S_squared, S.data(), d);  // S S^T = S^2
    fill_upper_from_lower(S_squared);
    Matrix N = S_squared;
    N.diagonal().array() += 1;
    if (!N.allFinite()) return std::nullopt;
    std::optional<Matrix> N_inverse_or = detail::well_conditioned_inverse(N, kRationalMinRcondN);
    if (!N_inverse_or) return std::nullopt;
    N_inverse = std::move(*N_inverse_or);
    multiply_into(P, N_inverse, false, S_squared, false);
    multiply_into(AP, A, false, P, false);
    multiply_into(PAP, P, true, AP, false);             // P A P, also a term of the gradient
    value += alpha * detail::trace_of_product(PAP, M);  // tr(A P M P) = tr(P A P M)
  }
  if (!std::isfinite(value)) return std::nullopt;

  Evaluation out;
  out.feasible = true;
  out.value = value;
  if (!with_gradient) return out;

  ++work_counters().gradient_evaluations;
  Matrix G, work;
  multiply_into(work, B, false, M_inverse, false);
  multiply_into(G, M_inverse, false, work, false);  // M^{-1} B M^{-1}
  G *= -c;
  G += A;
  if (alpha > 0) {
    Matrix K;
    multiply_into(work, AP, false, S, false);  // A P S; its transpose is S P A
    const Matrix G_P = work + work.transpose();
    multiply_into(work, G_P, false, N_inverse, false);
    multiply_into(K, N_inverse, false, work, false);  // N^{-1} (A P S + S P A) N^{-1}
    multiply_into(work, S, false, K, false);
    G += alpha * (PAP + work + work.transpose());
  }
  symmetrize(G);
  if (!G.allFinite()) return std::nullopt;
  out.gradient = std::move(G);
  return out;
}

}  // namespace advmetric
