// Minimisers of D(M) over SPD matrices: one entry point, `solve`, dispatching to
// - LBFGS (lbfgs.hpp): limited-memory BFGS from GMML in GMML's scaled coordinates;
// - Newton (newton.hpp): Newton-CG with the exact Hessian (hessian.hpp);
// - PGD and the paper's Algorithm 1 (pgd.hpp).
#pragma once

#include <cmath>
#include <optional>
#include <utility>

#include "gmml.hpp"
#include "lbfgs.hpp"
#include "newton.hpp"
#include "pgd.hpp"
#include "solver_problem.hpp"

namespace advmetric {

// Minimises D over SPD M for scatter matrices A, B (ridged here with options.reg). Without `init`
// LBFGS, Newton and PGD start from GMML's closed form (the exact minimiser for alpha = 0) and Paper
// from I.
inline SolveOutput solve(const Matrix& A, const Matrix& B, double alpha, double beta,
                         const std::optional<Matrix>& init, const SolverOptions& options,
                         const IterationCallback& callback = {}) {
  work_counters() = WorkCounters{};
  auto [A_r, B_r] = ridge(A, B, options.reg);
  // D scales with the data (A, B -> s^2 A, s^2 B gives D -> s^2 D, the same minimiser), so the
  // solvers work on A / sigma, B / sigma with sigma = mean diagonal entry: data scaled by 1e100 or
  // 1e-100 neither overflows nor underflows. Objective values are reported in the original scale,
  // and the paper's fixed step is scaled so that its iterates are unchanged.
  const double sigma = (A_r.trace() + B_r.trace()) / static_cast<double>(2 * A_r.rows());
  SolverOptions scaled_options = options;
  if (sigma > 0 && std::isfinite(sigma)) {
    A_r /= sigma;
    B_r /= sigma;
    scaled_options.step *= sigma;
  }
  Matrix M0;
  std::optional<GmmlSolution> closed_form;
  if (init) {
    M0 = *init;
  } else if (options.kind == SolverKind::Paper) {
    M0 = Matrix::Identity(A.rows(), A.cols());
  } else if (options.kind == SolverKind::LBFGS || options.kind == SolverKind::Newton) {
    // its factors give the first scaled coordinates
    closed_form = gmml_solution(A_r, B_r, GmmlFactorization::kEigenWhenWellConditioned);
    M0 = std::move(closed_form->M);
  } else {
    M0 = gmml(A_r, B_r);
  }
  // GMML's closed form factored A and B already; the evaluator's congruences reuse the factors.
  ScatterOperand A_operand =
      closed_form ? ScatterOperand(std::move(A_r), closed_form->L_A) : ScatterOperand(std::move(A_r));
  ScatterOperand B_operand = closed_form ? ScatterOperand(std::move(B_r), std::move(closed_form->L_B))
                                         : ScatterOperand(std::move(B_r));
  detail::Problem problem(std::move(A_operand), std::move(B_operand), alpha, beta, scaled_options, callback,
                          sigma > 0 && std::isfinite(sigma) ? sigma : 1.0);
  SolveOutput out;
  switch (options.kind) {
    case SolverKind::LBFGS: {
      std::optional<detail::ScaledCoordinates> coordinates;
      if (closed_form)
        coordinates = detail::scaled_coordinates(std::move(*closed_form), problem.weight_of_B());
      detail::lbfgs(problem, M0, std::move(coordinates), out);
      break;
    }
    case SolverKind::Newton:
      detail::newton(problem, M0, !init.has_value(), alpha, beta, out);
      break;
    case SolverKind::PGD:
      detail::projected_gradient(problem, std::move(M0), out);
      break;
    case SolverKind::Paper:
      detail::paper_algorithm(problem, std::move(M0), out);
      break;
  }
  out.counters = work_counters();
  return out;
}

}  // namespace advmetric
