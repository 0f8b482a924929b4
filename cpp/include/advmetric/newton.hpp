// Newton-CG for D(M), the solver of "newton-cg": truncated conjugate gradients on the exact Hessian
// (hessian.hpp, plus the term of the affine-invariant curve the step follows, see
// CoordinateHessian), preconditioned by GMML's Hessian, then the backtracking line search of
// line_search.hpp along that curve, so every iterate is SPD and D decreases monotonically (up to
// its rounding).
//
// The iteration works in the coordinates of lbfgs.hpp (M = T X T^T, ScaledCoordinates), where
// GMML's Hessian is diagonal, W_jk -> (lambda_j + lambda_k) W_jk at the point the coordinates
// were made: its inverse is the preconditioner, exact for alpha = 0. The adversarial term is what
// CG has to resolve. Each iteration costs one eigendecomposition of M, which serves D, its gradient
// and every Hessian product of that iteration; a unit step, accepted, costs no more. The start
// (eigenbasis_start) refits GMML's eigenvalues to D exactly before the first iteration, for no
// eigendecomposition, which leaves two iterations to do (docs/solver.md).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include "hessian.hpp"
#include "lbfgs.hpp"
#include "line_search.hpp"
#include "solver_problem.hpp"

namespace advmetric {
namespace detail {

// Conjugate-gradient steps per Newton iteration at most; reaching the limit (or meeting negative
// curvature early) means the preconditioner has drifted from the Hessian, and the coordinates are
// remade at the next iterate.
constexpr int kMaxConjugateGradient = 25;
constexpr int kRefreshAfterConjugateGradient = 8;

// The second-order model of D along the affine-invariant curve of step W from X (M = T X T^T),
//   X(t) = X + t W + (t^2 / 2) W X^{-1} W,
// which agrees with the geodesic X^{1/2} exp(t X^{-1/2} W X^{-1/2}) X^{1/2} to second order and
// stays positive definite for every t: X(t) = (X^{1/2} + (t/2) W X^{-1/2})(...)^T + (t^2/4) W X^{-1} W.
// Its Hessian is the Hessian of D plus the curve's term sym(G W X^{-1}) (G the gradient): along
// this curve D is much closer to quadratic than along straight lines (GMML's part becomes a sum of
// cosh-like terms instead of x + 1/x), so Newton's steps go further from GMML's start.
//
// Everything is done in M's eigenbasis with R = U^T T from the evaluation (T^T U is the
// evaluator's rotation), so a product costs two congruences and the Hessian's d x 6d product (the
// curve's term is its sixth block).
class CoordinateHessian {
 public:
  // `rotation` = T^T U for the current coordinates (the evaluator's, or one made after a refresh).
  void prepare(const Evaluator& evaluator, const Matrix& rotation, double alpha, double beta) {
    const Vector& l = evaluator.eigensystem().values;
    R_transpose_ = &rotation;
    R_ = R_transpose_->transpose();
    // The gradient in the eigenbasis, from its lower triangle with halved diagonal: the curve's
    // term rides along in the Hessian's product (HessianOperator's sixth block).
    const Matrix& half = evaluator.half_gradient_in_eigenbasis();
    const Index d = l.size();
    G_eig_.resize(d, d);
    for (Index k = 0; k < d; ++k) {
      G_eig_(k, k) = 2 * half(k, k);
      for (Index j = k + 1; j < d; ++j) G_eig_(j, k) = G_eig_(k, j) = half(j, k);
    }
    H_.prepare(l, evaluator.A_in_eigenbasis(), evaluator.B_in_eigenbasis(), alpha, beta, &G_eig_);
    // X^{-1} = T^T M^{-1} T = S S^T with S = T^T U diag(l)^{-1/2}.
    S_ = *R_transpose_ * l.cwiseInverse().cwiseSqrt().asDiagonal();
  }

  // out = (Hessian of D in X + the curve's term) W.
  void apply(const Matrix& W, Matrix& out) {
    half_ = W;
    half_.diagonal() *= 0.5;
    congruence_of_half_lower_into(V_eig_, work_, R_, half_);  // U^T T W T^T U
    H_.half_in_eigenbasis(V_eig_, Q_);
    // Q + Q^T as its lower triangle with halved diagonal (Q's own diagonal), the form the
    // congruence back takes; in square tiles, as the upper triangle is read row-wise.
    constexpr Index tile = 32;
    const Index d = Q_.rows();
    for (Index k0 = 0; k0 < d; k0 += tile) {
      for (Index j0 = k0; j0 < d; j0 += tile) {
        const Index k1 = std::min(k0 + tile, d), j1 = std::min(j0 + tile, d);
        for (Index k = k0; k < k1; ++k) {
          for (Index j = std::max(j0, k + 1); j < j1; ++j) Q_(j, k) += Q_(k, j);
        }
      }
    }
    congruence_of_half_lower_into(out, work_, *R_transpose_, Q_);
  }

  // C = W X^{-1} W / 2, the curve's second-order term in X.
  void curvature(const Matrix& W, Matrix& C) {
    multiply_into(WS_, W, false, S_, false);
    multiply_into(C, WS_, false, WS_, true);
    C *= 0.5;
    symmetrize(C);
  }

 private:
  HessianOperator H_;
  const Matrix* R_transpose_ = nullptr;
  Matrix R_, S_, G_eig_, half_, V_eig_, Q_, WS_, work_;
};

// Coordinates at the decomposed M = U diag(m) U^T (the evaluator's current eigensystem): with
// Z = U diag(m)^{1/2} and Q, lambda the eigensystem of
//   c Z^{-1} B Z^{-T} = diag(m)^{-1/2} (c U^T B U) diag(m)^{-1/2},
// formed in O(d^2) from the evaluator's U^T B U, T = Z Q gives T T^T = M and
// T^{-1} c B T^{-T} = diag(lambda) (ScaledCoordinates), and T^T U = Q^T diag(m)^{1/2}, the rotation
// the gradient in them takes, costs O(d^2) too. One eigendecomposition, no Cholesky factor. Also
// evaluates D's gradient in them into `cur`, and with `M` forms M = Z Z^T.
inline void eigenbasis_coordinates(Problem& problem, ScaledCoordinates& coords, Evaluation& cur,
                                   Matrix* M = nullptr) {
  Evaluator& evaluator = problem.evaluator();
  problem.count_evaluation();  // D and its gradient at the decomposed M, without an eigendecomposition
  const Vector& values = evaluator.eigensystem().values;
  const Matrix& U = evaluator.eigensystem().vectors;
  const Index d = U.rows();
  const Vector root = values.cwiseSqrt();
  const Vector inverse_root = root.cwiseInverse();
  const Matrix& B_eig = evaluator.B_in_eigenbasis();  // its lower triangle
  const double c = problem.weight_of_B();
  Matrix K(d, d);
  for (Index k = 0; k < d; ++k) {
    for (Index j = k; j < d; ++j) K(j, k) = K(k, j) = c * inverse_root[j] * B_eig(j, k) * inverse_root[k];
  }
  Eigensystem eig = eigensystem(K);
  const Matrix Z = U * root.asDiagonal();
  if (M) {
    M->setZero(d, d);
    add_gram_lower(*M, Z.data(), d);  // U diag(m) U^T
    fill_upper_from_lower(*M);
  }
  coords.T.resize(d, d);
  multiply_into(coords.T, Z, false, eig.vectors, false);
  coords.inverse_curvature = inverse_curvature(eig.values);
  const Matrix rotation = eig.vectors.transpose() * root.asDiagonal();  // T^T U
  // The iteration never solves with T, so no factors of it are kept (ScaledCoordinates::solve).
  coords.factor = ScaledCoordinates::Factor::kNone;
  evaluator.evaluate_decomposed(Evaluator::Detail::kGradient, cur, nullptr, &rotation);
}

// Newton's start at M0 (GMML's closed form, or the caller's init), sharing one eigendecomposition
// of M0 = U diag(l) U^T:
// - D and the relative gradient at M0, iteration 0 (for alpha = 0 GMML's closed form is the
//   solution and the solve ends here).
// - The eigenvalue step: over the matrices U diag(m) U^T, D is a sum of convex one-dimensional
//   terms, one per eigenvector (Evaluator::best_eigenvalues), so its exact minimiser there costs d
//   scalar solves, and D and its gradient there reuse U, U^T A U and U^T B U. GMML's closed form
//   has nearly the right eigenvectors but eigenvalues fitted to GMML's objective; the step refits
//   them to D, which is most of what separates the two minimisers (from GMML on random problems,
//   d = 16..784, alpha = 1, beta = 0.8: relative gradient 1e-2 -> 1e-4, after which two Newton
//   iterations reach 1e-8 where three were needed). It also fixes the scale of a start far from
//   the solution's. The step is part of the start, not an iteration of its own (unless it already
//   meets the tolerance, or the first line search stalls: then its point is recorded).
// - Coordinates in that eigenbasis (eigenbasis_coordinates); the start is close enough to the
//   solution that they serve to the end.
// Returns whether the step was taken (M is then the step's point), or nullopt when the solve is
// over (`out` says why).
// `start_values` receives M0's eigenvalues.
inline std::optional<bool> eigenbasis_start(Problem& problem, Matrix& M, ScaledCoordinates& coords,
                                            Evaluation& cur, SolveOutput& out, Vector& start_values) {
  Evaluator& evaluator = problem.evaluator();
  problem.count_evaluation();  // D and the relative gradient at M0
  if (!evaluator.decompose(M)) throw std::domain_error("the initial M is not positive definite");
  evaluator.evaluate_decomposed(Evaluator::Detail::kStationarity, cur);
  // D can overflow at a caller's init far off the data's scale (1e300 I with a large alpha); the
  // step's point, where it is finite, is then the start itself (iteration 0).
  const bool finite_start = cur.feasible;
  if (finite_start && problem.record(out, M, cur, 0)) return std::nullopt;

  start_values = evaluator.eigensystem().values;
  evaluator.set_eigenvalues(evaluator.best_eigenvalues());
  Evaluation stepped;
  evaluator.evaluate_decomposed(Evaluator::Detail::kValue, stepped);
  if (!finite_start && !stepped.feasible) {
    throw std::domain_error(
        "D(M) is not finite at the initial M, nor with its eigenvalues fitted to A and B");
  }
  const bool improved = stepped.feasible && (!finite_start || stepped.value < cur.value);
  if (!improved) evaluator.set_eigenvalues(start_values);  // only rounding to gain: keep M0
  eigenbasis_coordinates(problem, coords, cur, improved ? &M : nullptr);
  if (!improved) return false;
  if (!finite_start) return problem.record(out, M, cur, 0) ? std::nullopt : std::optional<bool>(false);
  if (cur.relative_gradient <= problem.options().tol && problem.record(out, M, cur, 1)) return std::nullopt;
  return true;
}

// `closed_form_start`: M0 is GMML's closed form (not a caller's init), to which the iteration may
// return (below).
inline void newton(Problem& problem, const Matrix& M0, bool closed_form_start, double alpha, double beta,
                   SolveOutput& out) {
  const SolverOptions& opt = problem.options();
  const Index d = M0.rows();
  ScaledCoordinates coords;
  const Matrix& T = coords.T;
  Matrix X = Matrix::Identity(d, d), M = M0;
  Evaluation cur, next;  // gradients with respect to X
  Vector values_at_M0;
  const std::optional<bool> stepped = eigenbasis_start(problem, M, coords, cur, out, values_at_M0);
  if (!stepped) return;
  // The eigenvalue step is kept when CG meets no negative curvature in the first iteration, i.e.
  // when Newton's model along the curve is convex there and its fast local convergence applies.
  // Where the problem is not convex (a flat, rank-deficient problem with several local minima),
  // the step can land near a saddle from which truncated Newton crawls (negative curvature at
  // once, every iteration); from GMML's closed form the iteration then restarts at M0, in M0's own
  // eigenbasis (the evaluator still holds M0's eigenvectors). A caller's init is not returned to:
  // it may be far off the solution's scale, which the step has fixed.
  bool step_on_trial = *stepped && closed_form_start;
  CoordinateHessian hessian;
  Matrix W, r, z, p, Hp, P_half, P_M, C, C_M, M_next, work, rotation;
  bool refresh = false, retried = false;
  bool evaluated_at_M = true;            // the evaluator's last evaluation was at M (not a rejected trial)
  const Matrix* rotation_now = nullptr;  // T^T U for the Hessian: the evaluator's, or `rotation`
  for (int it = 1; it <= opt.max_iter; ++it) {
    rotation_now = &problem.evaluator().basis_rotation();
    if (refresh) {
      bool remade = false;
      try {
        coords = scaled_coordinates(M, problem.weighted_B());
        X.setIdentity();
        remade = true;
      } catch (const std::domain_error&) {  // M too ill-conditioned to factor: keep the old ones
      }
      if (remade && evaluated_at_M) {
        // The evaluation at M stands (its eigensystem, D, the relative gradient); only the
        // gradient changes coordinates: T^T grad D T = R^T G~ R with R = U^T T.
        multiply_into(rotation, T, true, problem.evaluator().eigensystem().vectors, false);
        congruence_of_half_lower_into(cur.gradient, work, rotation,
                                      problem.evaluator().half_gradient_in_eigenbasis());
        rotation_now = &rotation;
      } else if (remade || !evaluated_at_M) {
        problem.evaluate(M, cur, &T);  // the gradient in the new coordinates, and the Hessian's pieces
        evaluated_at_M = true;
        rotation_now = &problem.evaluator().basis_rotation();
      }
      refresh = false;
    }
    const Matrix& inverse_curvature = coords.inverse_curvature;
    const Matrix& G = cur.gradient;
    hessian.prepare(problem.evaluator(), *rotation_now, alpha, beta);

    // Truncated, preconditioned CG on H W = -G, to a residual (in the preconditioner's norm) of
    // eta times the gradient's: loose far from the solution, tighter as the gradient shrinks,
    // which keeps Newton's fast local convergence without over-solving early steps. Never tighter
    // than the tolerance needs: a step that cuts the relative gradient g to about eta g (plus the
    // model's quadratic error) needs no smaller eta than tol / g; 0.3 of that leaves room for the
    // difference between the two norms (measured on 62 random, golden and digits problems: the
    // same iterations as a tenth, the final relative gradients at most 0.3 tol).
    const double eta =
        std::min(0.1, std::max(10 * cur.relative_gradient, 0.3 * opt.tol / cur.relative_gradient));
    W.setZero(d, d);
    r = -G;
    z = inverse_curvature.cwiseProduct(r);
    p = z;
    double rz = inner(r, z);
    const double target = eta * eta * rz;
    int steps = 0;
    bool negative_curvature = false;
    while (steps < kMaxConjugateGradient) {
      hessian.apply(p, Hp);
      ++steps;
      const double pHp = inner(p, Hp);
      if (!(pHp > 0)) {  // D is not convex along p: keep what CG has (or the preconditioned step)
        negative_curvature = true;
        if (steps == 1) W = p;
        break;
      }
      const double a = rz / pHp;
      W += a * p;
      r -= a * Hp;
      z = inverse_curvature.cwiseProduct(r);
      const double rz_next = inner(r, z);
      if (rz_next <= target) break;
      p = z + (rz_next / rz) * p;
      rz = rz_next;
    }
    if (step_on_trial) {
      step_on_trial = false;
      if (negative_curvature) {  // back to M0, in its eigenbasis (see above)
        problem.evaluator().set_eigenvalues(values_at_M0);
        eigenbasis_coordinates(problem, coords, cur);
        M = M0;
        X.setIdentity();
        --it;
        continue;
      }
    }
    if (negative_curvature || steps >= kRefreshAfterConjugateGradient) refresh = true;
    double slope = inner(G, W);
    if (!(slope < 0)) {
      W = -inverse_curvature.cwiseProduct(G);
      slope = inner(G, W);
    }
    P_half = W;
    P_half.diagonal() *= 0.5;
    congruence_of_half_lower_into(P_M, work, T, P_half);  // the step in M, T W T^T
    hessian.curvature(W, C);
    P_half = C;
    P_half.diagonal() *= 0.5;
    congruence_of_half_lower_into(C_M, work, T, P_half);  // and the curve's term, T C T^T
    const CurvedPath curve{C_M, C};

    const StepSearch search = backtrack(
        problem, M, P_M, W, &T, cur, slope, M_next, next, [&] { return feasible_step_limit(X, W); }, &curve);
    const bool stalled =
        !search.accepted || search.t * P_M.norm() <= std::numeric_limits<double>::epsilon() * M.norm();
    if (stalled && !retried) {
      // The coordinates may be the limit rather than rounding in D: remake them once and retry.
      retried = true;
      refresh = true;
      evaluated_at_M = false;  // the evaluator holds the last trial point
      if (problem.record(out, M, cur, it)) return;
      continue;
    }
    if (!search.accepted) {
      out.message = line_search_stopped(cur.relative_gradient);
      return;
    }
    if (stalled) {
      out.message = "stopped: the step no longer changes M (floating-point limit); relative gradient norm " +
                    number(cur.relative_gradient);
      return;
    }
    X += search.t * W + (search.t * search.t) * C;
    std::swap(M, M_next);
    std::swap(cur, next);
    if (problem.record(out, M, cur, it)) return;
  }
  stop_at_max_iter(out);
}

}  // namespace detail
}  // namespace advmetric
