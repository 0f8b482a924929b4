// The backtracking line search shared by the L-BFGS and Newton solvers. D is +inf outside the SPD
// cone, so backtracking keeps every iterate SPD and D decreases monotonically (up to its rounding,
// see kRoundingSlack).
#pragma once

#include <cmath>
#include <limits>
#include <optional>

#include "solver_problem.hpp"

namespace advmetric {
namespace detail {

// Relative rounding error of D(M) tolerated by the line search near the optimum.
constexpr double kRoundingSlack = 1e-13;

// The largest t for which X + t P stays positive definite (X SPD): -1 / lambda_min(C^{-1} P C^{-T})
// with X = C C^T, or +inf when P does not leave the cone.
inline double feasible_step_limit(const Matrix& X, const Matrix& P) {
  const std::optional<Matrix> C = cholesky_lower(X);
  if (!C) return 0;
  Matrix half = P;
  solve_lower_in_place(*C, false, half);  // C^{-1} P
  Matrix Z = half.transpose();
  solve_lower_in_place(*C, false, Z);
  symmetrize(Z);
  const double smallest = eigensystem(Z).values.minCoeff();
  return smallest < 0 ? -1 / smallest : std::numeric_limits<double>::infinity();
}

struct StepSearch {
  double t = 1;
  bool accepted = false;
};

// Halves t from 1 until M + t P_M (or, with `curve`, M + t P_M + t^2 C_M) satisfies Armijo's
// condition, or, once the decrease is below
// what D's rounding can resolve (a relative gradient of 1e-8 means a decrease of ~1e-16 D), the
// approximate Wolfe test of Hager and Zhang on the directional derivative, which the gradient
// still resolves. That test lets D rise by at most its own rounding error, kRoundingSlack |D|.
// P is the step in the coordinates the gradients are taken in (`basis`, see Problem::evaluate),
// `slope` = <gradient, P> < 0. On return `next` holds D and its gradient at M_next = M + t P_M.
// `feasible_limit()` gives the largest step that stays in the SPD cone; it is asked once, when a
// trial first leaves the cone. A curved path's second-order term is C_M in M and C in the
// gradients' coordinates; its derivative at t is then P + 2 t C.
struct CurvedPath {
  const Matrix& C_M;
  const Matrix& C;
};

template <class FeasibleLimit>
StepSearch backtrack(Problem& problem, const Matrix& M, const Matrix& P_M, const Matrix& P,
                     const Matrix* basis, const Evaluation& cur, double slope, Matrix& M_next,
                     Evaluation& next, FeasibleLimit&& feasible_limit, const CurvedPath* curve = nullptr) {
  StepSearch search;
  double& t = search.t;
  bool capped = false;
  for (int trial = 0; trial < 60 && slope < 0; ++trial, t *= 0.5) {
    if (curve) {
      M_next = M + t * P_M + (t * t) * curve->C_M;
    } else {
      M_next = M + t * P_M;
    }
    problem.evaluate(M_next, next, basis);
    if (!next.feasible) {
      // From a start far off the solution's scale the step can leave the SPD cone by more
      // orders of magnitude than 60 halvings undo. Jump straight to the first halving below
      // the cone's boundary: the step plain halving would reach, in one trial.
      if (!capped) {
        capped = true;
        const double limit = feasible_limit();
        if (limit < t && limit > 0) t *= 2 * std::exp2(std::floor(std::log2(limit / t)));
      }
      continue;
    }
    const double end_slope =
        curve ? inner(next.gradient, P) + 2 * t * inner(next.gradient, curve->C) : inner(next.gradient, P);
    if (next.value <= cur.value + 1e-4 * t * slope ||
        (next.value <= cur.value + kRoundingSlack * std::abs(cur.value) && 0.9 * slope <= end_slope &&
         end_slope <= -0.8 * slope)) {
      search.accepted = true;
      break;
    }
  }
  return search;
}

}  // namespace detail
}  // namespace advmetric
