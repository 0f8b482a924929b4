// Limited-memory BFGS for D(M), the solver of "lbfgs": started from GMML, in coordinates where
// GMML's Hessian is diagonal (ScaledCoordinates), with the backtracking line search of
// line_search.hpp, so every iterate is SPD and D decreases monotonically.
#pragma once

#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "gmml.hpp"
#include "line_search.hpp"
#include "solver_problem.hpp"

namespace advmetric {
namespace detail {

// LBFGS remakes its coordinates when this many iterations cut the gradient less than 100-fold
// (the window doubles after each remake).
constexpr int kRefreshWindow = 10;

// x += c u, returning <x, v> for the updated x, in one pass.
inline double update_and_inner(Matrix& x, double c, const Matrix& u, const Matrix& v) {
  double* xs = x.data();
  const double *us = u.data(), *vs = v.data();
  const Index n = x.size(), blocks = n - n % 4;
  double sum[4] = {0, 0, 0, 0};  // four partial sums: independent chains the CPU can overlap
  for (Index i = 0; i < blocks; i += 4) {
    for (int k = 0; k < 4; ++k) {
      xs[i + k] += c * us[i + k];
      sum[k] += xs[i + k] * vs[i + k];
    }
  }
  for (Index i = blocks; i < n; ++i) {
    xs[i] += c * us[i];
    sum[0] += xs[i] * vs[i];
  }
  return (sum[0] + sum[1]) + (sum[2] + sum[3]);
}

// Coordinates in which the problem is well scaled: M = T X T^T with T T^T = M0 and
// T^{-1} (c B) T^{-T} = diag(lambda). Then the Hessian of c tr(B M^{-1}) at M0 with respect to X is
// diagonal: W_jk -> (lambda_j + lambda_k) W_jk (exactly, at any M0). tr(AM) is linear, so this is
// the whole Hessian for alpha = 0; its inverse is the LBFGS initial Hessian. The iteration is then
// invariant to the scaling and rotation of the features. Three constructions:
// - at GMML's closed form, T = L_A^{-T} V diag(sigma)^{1/2} and lambda = c sigma come with it
//   (gmml.hpp), for no extra work;
// - at any M0 = L L^T, T = L Q with Q, lambda the eigensystem of c L^{-1} B L^{-T};
// - at M0 = U diag(m) U^T with U^T B U at hand (newton.hpp), T = U diag(m)^{1/2} Q with Q, lambda
//   the eigensystem of c diag(m)^{-1/2} U^T B U diag(m)^{-1/2}, formed in O(d^2). Newton-CG never
//   solves with T, so these keep T and the curvature only (Factor::kNone).
struct ScaledCoordinates {
  enum class Factor {
    kLower,          // T = L Q diag(s), L lower triangular
    kInverseLowerT,  // T = L^{-T} Q diag(s), L lower triangular
    kNone,           // T alone: `solve` is not available
  };
  Matrix T;
  Matrix inverse_curvature;  // 1 / (lambda_j + lambda_k)
  Matrix L, Q;
  Vector s;
  Factor factor = Factor::kLower;

  // T^{-1} Y without forming the inverse.
  Matrix solve(const Matrix& Y) const {
    Matrix Z = Y;
    switch (factor) {
      case Factor::kLower:
        solve_lower_in_place(L, false, Z);
        break;
      case Factor::kInverseLowerT:
        multiply_lower_in_place(L, true, Z);
        break;
      case Factor::kNone:
        throw std::logic_error("ScaledCoordinates::solve: these coordinates keep no factors of T");
    }
    return s.cwiseInverse().asDiagonal() * multiply(Q, true, Z, false);
  }
};

inline Matrix inverse_curvature(const Vector& eigenvalues) {
  // B is positive semidefinite; floor lambda so that a singular B (no ridge) cannot divide by 0.
  const Vector lambda = eigenvalues.cwiseMax(1e-12 * std::max(eigenvalues.maxCoeff(), 0.0) +
                                             std::numeric_limits<double>::min());
  const Index d = lambda.size();
  Matrix H(d, d);
  for (Index k = 0; k < d; ++k) {
    for (Index j = 0; j < d; ++j) H(j, k) = 1 / (lambda[j] + lambda[k]);
  }
  return H;
}

inline ScaledCoordinates scaled_coordinates(const Matrix& M0, const Matrix& cB) {
  std::optional<Matrix> L = cholesky_lower(M0);
  if (!L) throw std::domain_error("the initial M is not positive definite");
  Matrix half = cB;
  solve_lower_in_place(*L, false, half);  // L^{-1} cB
  Matrix K = half.transpose();
  solve_lower_in_place(*L, false, K);  // L^{-1} cB L^{-T}
  symmetrize(K);
  Eigensystem eig = eigensystem(K);
  const Index d = M0.rows();
  ScaledCoordinates c;
  c.T = multiply(*L, false, eig.vectors, false);
  c.inverse_curvature = inverse_curvature(eig.values);
  c.L = std::move(*L);
  c.Q = std::move(eig.vectors);
  c.s = Vector::Ones(d);
  return c;
}

inline ScaledCoordinates scaled_coordinates(GmmlSolution&& g, double c) {
  ScaledCoordinates coords;
  coords.T = std::move(g.T);
  coords.inverse_curvature = inverse_curvature(c * g.sigma);
  coords.L = std::move(g.L_A);
  coords.Q = std::move(g.V);
  coords.s = g.sigma.cwiseSqrt();
  coords.factor = ScaledCoordinates::Factor::kInverseLowerT;
  return coords;
}

// The multiple s M minimising D's GMML part s tr(A M) + tr(cB M^{-1}) / s, the scale-free core of
// D: s = sqrt(tr(cB M^{-1}) / tr(A M)); NaN when M is not positive definite.
inline double gmml_scale(const Matrix& M, const Matrix& A, const Matrix& cB) {
  Eigen::LLT<Matrix> factor(M);
  if (factor.info() != Eigen::Success) return std::numeric_limits<double>::quiet_NaN();
  const Matrix M_inverse = factor.solve(Matrix::Identity(M.rows(), M.cols()));
  return std::sqrt(cB.cwiseProduct(M_inverse).sum() / A.cwiseProduct(M).sum());
}

// L-BFGS's start in GMML's coordinates (Newton-CG has its own, newton.hpp eigenbasis_start): D and its
// gradient at M, and, from a start the caller gave (init), one rescaling of M by the best multiple for D's
// GMML part when that lowers D. From far off the solution's scale (init = 1e30 I, say) the
// iterates could only shrink or grow M about twofold per iteration (the SPD cone bounds each
// step); the rescaling fixes the scale at once and counts as the first iteration. Returns the
// number of the next iteration, or 0 when the solve is already over (`out` says why).
inline int start_in_coordinates(Problem& problem, Matrix& M, ScaledCoordinates& coords, bool given_start,
                                const Matrix& weighted_B, Evaluation& cur, SolveOutput& out) {
  problem.evaluate(M, cur, &coords.T);
  if (!cur.feasible) throw std::domain_error("the initial M is not positive definite");
  if (problem.record(out, M, cur, 0)) return 0;
  const double s0 = given_start ? gmml_scale(M, problem.A(), weighted_B) : 1.0;
  if (!(std::isfinite(s0) && s0 > 0 && (s0 > 4 || s0 < 0.25))) return 1;
  Matrix M_scaled = s0 * M;
  Evaluation scaled;
  problem.evaluate(M_scaled, scaled);
  if (!(scaled.feasible && scaled.value < cur.value)) return 1;
  M = std::move(M_scaled);
  coords = scaled_coordinates(M, weighted_B);
  problem.evaluate(M, cur, &coords.T);
  return problem.record(out, M, cur, 1) ? 0 : 2;
}

// `start_coordinates`: the coordinates at M0 when they are known (GMML's closed form, the
// default); otherwise M0 came from the caller and may be far off the solution's scale.
inline void lbfgs(Problem& problem, const Matrix& M0, std::optional<ScaledCoordinates> start_coordinates,
                  SolveOutput& out) {
  const SolverOptions& opt = problem.options();
  const Index d = M0.rows();
  const Matrix weighted_B = problem.weighted_B();
  const bool given_start = !start_coordinates;
  ScaledCoordinates coords =
      start_coordinates ? std::move(*start_coordinates) : scaled_coordinates(M0, weighted_B);
  const Matrix& T = coords.T;
  const Matrix& H0 = coords.inverse_curvature;
  Matrix X = Matrix::Identity(d, d), M = M0;
  Evaluation cur, next;  // gradients with respect to X
  const int first = start_in_coordinates(problem, M, coords, given_start, weighted_B, cur, out);
  if (first == 0) return;

  // Curvature pairs in a ring buffer; every matrix below keeps its storage across iterations.
  const int memory = std::max(1, opt.memory);
  std::vector<Matrix> S(memory), Y(memory);
  std::vector<double> rho(memory), a(memory);
  int stored = 0, newest = memory - 1;
  auto slot = [&](int age) { return (newest - age + memory) % memory; };  // age 0 = newest
  Matrix q, r, P, P_half, P_M, X_next, M_next, s, y, work;
  double gamma = 1;  // H0 is the exact Hessian for alpha = 0

  // The coordinates fit the Hessian at the point where they were made. When the adversarial term
  // moves the solution far from there, progress slows; then they are made anew at the current M.
  // The stored curvature pairs are carried over: with R = T_new^{-1} T_old, a step s becomes
  // R s R^T and a gradient difference y becomes R^{-T} y R^{-1} (inner products are unchanged).
  int refreshed_at = first - 1, window = kRefreshWindow;
  double value_at_retry = std::numeric_limits<double>::infinity();  // D at the last stall retry
  double refreshed_gradient = cur.relative_gradient;
  auto refresh = [&](int it) {
    ScaledCoordinates fresh;
    try {
      fresh = scaled_coordinates(M, weighted_B);
    } catch (const std::domain_error&) {  // M too ill-conditioned to factor: keep the old ones
      return false;
    }
    const Matrix R = fresh.solve(coords.T);
    const Matrix R_inverse = coords.solve(fresh.T);
    for (int age = 0; age < stored; ++age) {
      const int i = slot(age);
      S[i] = multiply(multiply(R, false, S[i], false), false, R, true);
      Y[i] = multiply(multiply(R_inverse, true, Y[i], false), false, R_inverse, false);
    }
    coords = std::move(fresh);
    X.setIdentity();
    problem.evaluate(M, cur, &T);
    if (stored > 0) gamma = inner(S[slot(0)], Y[slot(0)]) / inner(Y[slot(0)], H0.cwiseProduct(Y[slot(0)]));
    refreshed_at = it;
    refreshed_gradient = cur.relative_gradient;
    return true;
  };

  for (int it = first; it <= opt.max_iter; ++it) {
    if (it - refreshed_at > window && cur.relative_gradient > 1e-2 * refreshed_gradient) {
      refresh(it);
      window *= 2;  // a problem that stays slow is not helped by ever more frequent refreshes
    }
    // Two-loop recursion with the initial inverse Hessian gamma * H0 (elementwise). Each pass
    // over a d x d matrix is fused with the next inner product: at large d the loops are bound by
    // memory traffic, not flops.
    q = cur.gradient;
    if (stored > 0) a[slot(0)] = rho[slot(0)] * inner(S[slot(0)], q);
    for (int age = 0; age < stored; ++age) {
      const int i = slot(age);
      if (age + 1 < stored) {
        const int next_i = slot(age + 1);
        a[next_i] = rho[next_i] * update_and_inner(q, -a[i], Y[i], S[next_i]);
      } else {
        q -= a[i] * Y[i];
      }
    }
    r = gamma * H0.cwiseProduct(q);
    double r_dot = stored > 0 ? inner(Y[slot(stored - 1)], r) : 0;
    for (int age = stored - 1; age >= 0; --age) {
      const int i = slot(age);
      const double c = a[i] - rho[i] * r_dot;
      if (age > 0) {
        r_dot = update_and_inner(r, c, S[i], Y[slot(age - 1)]);
      } else {
        r += c * S[i];
      }
    }
    P = -r;
    double slope = inner(cur.gradient, P);
    if (!(slope < 0)) {  // lost positive definiteness of the model: restart from H0
      stored = 0;
      P = -gamma * H0.cwiseProduct(cur.gradient);
      slope = inner(cur.gradient, P);
    }
    // The step in M, T P T^T, once per iteration: trial points are then M + t P_M.
    P_half = P;
    P_half.diagonal() *= 0.5;
    congruence_of_half_lower_into(P_M, work, T, P_half);

    const StepSearch search = backtrack(problem, M, P_M, P, &T, cur, slope, M_next, next,
                                        [&] { return feasible_step_limit(X, P); });
    const double t = search.t;
    const bool accepted = search.accepted;
    if (accepted) X_next = X + t * P;
    // A stall can come from the coordinates rather than from rounding in D: far from where they
    // were made, X spans many orders of magnitude and steps in its small directions vanish
    // against its norm. Remake them at the current M (X = I) and start afresh from H0 before
    // concluding that floating point is the limit.
    const bool stalled = !accepted || t * P_M.norm() <= std::numeric_limits<double>::epsilon() * M.norm();
    // Once per stall: unless the last retry gained more than 1e-10 of D, stalling again ends the run.
    if (stalled && refreshed_at < it - 1 &&
        cur.value < value_at_retry - 1e3 * kRoundingSlack * std::abs(cur.value) && refresh(it)) {
      value_at_retry = cur.value;
      stored = 0;
      gamma = 1;
      if (problem.record(out, M, cur, it)) return;
      continue;
    }
    if (!accepted) {
      out.message = line_search_stopped(cur.relative_gradient);
      return;
    }
    if (stalled) {
      out.message = "stopped: the step no longer changes M (floating-point limit); relative gradient norm " +
                    number(cur.relative_gradient);
      return;
    }
    s = t * P;
    y = next.gradient - cur.gradient;
    const double sy = inner(s, y);
    if (sy > 1e-12 * s.norm() * y.norm()) {
      gamma = sy / inner(y, H0.cwiseProduct(y));
      newest = (newest + 1) % memory;
      stored = std::min(stored + 1, memory);
      std::swap(S[newest], s);  // the evicted pair's storage is reused next time
      std::swap(Y[newest], y);
      rho[newest] = 1 / sy;
    }
    std::swap(X, X_next);
    std::swap(M, M_next);
    std::swap(cur, next);
    if (problem.record(out, M, cur, it)) return;
  }
  stop_at_max_iter(out);
}

}  // namespace detail
}  // namespace advmetric
