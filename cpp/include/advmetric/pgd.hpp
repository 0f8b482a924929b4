// Projected gradient solvers of D(M) on the SPD cone:
// - PGD ("pgd"): Barzilai-Borwein steps and Armijo backtracking along the projection arc
//   (the baseline of docs/math.md), monotone;
// - the paper's Algorithm 1 ("paper"): a fixed step rho, projected, from the identity.
#pragma once

#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "solver_problem.hpp"

namespace advmetric {
namespace detail {

inline void projected_gradient(Problem& problem, Matrix M, SolveOutput& out) {
  const SolverOptions& opt = problem.options();
  Evaluation cur = problem.evaluate(M);
  if (!cur.feasible) throw std::domain_error("the initial M is not positive definite");
  if (problem.record(out, M, cur, 0)) return;

  double t = 0.1 * M.norm() / cur.gradient.norm();
  for (int it = 1; it <= opt.max_iter; ++it) {
    Matrix M_next, step;
    Evaluation next;
    bool accepted = false;
    for (int trial = 0; trial < 60; ++trial, t *= 0.5) {
      M_next = project_spd(M - t * cur.gradient, opt.eig_floor);
      step = M_next - M;
      const double decrease = inner(cur.gradient, step);
      next = problem.evaluate(M_next);
      if (next.feasible && decrease < 0 && next.value <= cur.value + 1e-4 * decrease) {
        accepted = true;
        break;
      }
    }
    if (!accepted) {
      out.message = line_search_stopped(cur.relative_gradient);
      return;
    }
    const Matrix y = next.gradient - cur.gradient;
    const double sy = inner(step, y);
    // Barzilai-Borwein step for the next iteration; keep the last one if curvature is not positive.
    if (sy > 0) t = step.squaredNorm() / sy;
    M = std::move(M_next);
    cur = std::move(next);
    if (problem.record(out, M, cur, it)) return;
  }
  stop_at_max_iter(out);
}

inline void paper_algorithm(Problem& problem, Matrix M, SolveOutput& out) {
  const SolverOptions& opt = problem.options();
  Evaluation cur = problem.evaluate(M);
  if (!cur.feasible) throw std::domain_error("the initial M is not positive definite");
  if (problem.record(out, M, cur, 0)) return;
  const double start_value = cur.value;

  for (int it = 1; it <= opt.max_iter; ++it) {
    Matrix M_next = M - opt.step * cur.gradient;
    Evaluation next;
    if (M_next.allFinite()) {
      try {
        M_next = project_spd(M_next, opt.eig_floor);
        next = problem.evaluate(M_next);
      } catch (const std::runtime_error&) {  // eigensolver failure on an overflowing iterate
        next = Evaluation{};
      }
    }
    if (!next.feasible || next.value > 1e12 * start_value) {
      out.message = "diverged: the fixed step " + number(opt.step / problem.scale()) +
                    " is too large for this problem (returning the last finite iterate)";
      return;
    }
    // A step lost in the rounding of M (typically M thrown to a huge scale) can never recover.
    const bool stalled = (M_next - M).norm() <= 16 * std::numeric_limits<double>::epsilon() * M.norm();
    M = std::move(M_next);
    cur = std::move(next);
    if (problem.record(out, M, cur, it)) return;
    if (stalled) {
      out.message = std::string(cur.value > start_value ? "diverged" : "stalled") +
                    ": the fixed step no longer changes M; relative gradient norm " +
                    number(cur.relative_gradient);
      return;
    }
  }
  stop_at_max_iter(out);
}

}  // namespace detail
}  // namespace advmetric
