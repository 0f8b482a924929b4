// Minimisers of D(M) over SPD matrices.
//
// - LBFGS (the default): limited-memory BFGS, started from GMML, in coordinates where GMML's
//   Hessian is diagonal (see ScaledCoordinates), with an Armijo backtracking line search. D is
//   +inf outside the SPD cone, so backtracking keeps every iterate SPD and the objective decreases
//   monotonically.
// - PGD: projected gradient descent with Barzilai-Borwein steps and Armijo backtracking along the
//   projection arc (MATH.md's baseline), monotone.
// - Paper: Algorithm 1 of the paper: fixed step rho, projected, from the identity.
#pragma once

#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gmml.hpp"
#include "objective.hpp"

namespace advmetric {

enum class SolverKind { LBFGS, PGD, Paper };

struct SolverOptions {
  SolverKind kind = SolverKind::LBFGS;
  int max_iter = 1000;
  double tol = 1e-8;         // on the relative gradient norm
  double reg = 0;            // ridge, see `ridge`
  double step = 1e-3;        // Paper: the fixed step rho
  double eig_floor = 1e-12;  // PGD/Paper: SPD projection floor, relative to the largest eigenvalue
  int memory = 10;           // LBFGS: stored curvature pairs
};

struct IterationInfo {
  int iteration;
  double objective;
  double relative_gradient;
};
using IterationCallback = std::function<void(const IterationInfo&)>;

struct SolveOutput {
  Matrix M;
  int n_iter = 0;
  std::vector<double> objective, relative_gradient;
  bool converged = false;
  std::string message;
};

namespace detail {

// Relative rounding error of D(M) tolerated by the LBFGS line search near the optimum.
constexpr double kRoundingSlack = 1e-13;
// LBFGS remakes its coordinates when this many iterations cut the gradient less than 100-fold
// (the window doubles after each remake).
constexpr int kRefreshWindow = 10;

inline double inner(const Matrix& X, const Matrix& Y) { return X.cwiseProduct(Y).sum(); }

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

inline std::string number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", x);
  return text;
}

class Problem {
 public:
  // `scale`: the factor A and B were divided by; objective values are reported times it.
  Problem(ScatterOperand A, ScatterOperand B, double alpha, double beta, const SolverOptions& options,
          const IterationCallback& callback, double scale = 1)
      : A_(std::move(A)),
        B_(std::move(B)),
        alpha_(alpha),
        beta_(beta),
        evaluator_(A_, B_, alpha, beta),
        options_(options),
        callback_(callback),
        scale_(scale) {}

  // D and grad D at M into `e`, reusing its storage; with `basis` = T, the gradient with respect
  // to X for M = T X T^T.
  void evaluate(const Matrix& M, Evaluation& e, const Matrix* basis = nullptr) {
    evaluator_(M, true, e, basis);
  }
  const Matrix& A() const { return A_.matrix(); }
  // c B, where c = 1 + alpha beta^2 / (2 + beta)^2 is D's weight on tr(B M^{-1}).
  double weight_of_B() const { return 1 + alpha_ * beta_ * beta_ / ((2 + beta_) * (2 + beta_)); }
  Matrix weighted_B() const { return weight_of_B() * B_.matrix(); }
  Evaluation evaluate(const Matrix& M) {
    Evaluation e;
    evaluator_(M, true, e);
    return e;
  }

  // Records an iterate; returns true when the gradient test is met.
  bool record(SolveOutput& out, const Matrix& M, const Evaluation& e, int iteration) const {
    out.M = M;
    out.n_iter = iteration;
    out.objective.push_back(e.value * scale_);
    out.relative_gradient.push_back(e.relative_gradient);
    if (iteration > 0 && callback_) callback_({iteration, e.value * scale_, e.relative_gradient});
    if (e.relative_gradient <= options_.tol) {
      out.converged = true;
      out.message = "converged: relative gradient norm " + number(e.relative_gradient) + " <= tol " +
                    number(options_.tol);
      return true;
    }
    return false;
  }

  const SolverOptions& options() const { return options_; }
  double scale() const { return scale_; }

 private:
  ScatterOperand A_, B_;
  double alpha_, beta_;
  Evaluator evaluator_;
  SolverOptions options_;
  const IterationCallback& callback_;
  double scale_;
};

inline void stop_at_max_iter(SolveOutput& out) {
  out.message =
      "maximum number of iterations reached; relative gradient norm " + number(out.relative_gradient.back());
}

// Coordinates in which the problem is well scaled: M = T X T^T with T T^T = M0 and
// T^{-1} (c B) T^{-T} = diag(lambda). Then the Hessian of c tr(B M^{-1}) at M0 with respect to X is
// diagonal: W_jk -> (lambda_j + lambda_k) W_jk (exactly, at any M0). tr(AM) is linear, so this is
// the whole Hessian for alpha = 0; its inverse is the LBFGS initial Hessian. The iteration is then
// invariant to the scaling and rotation of the features. Two constructions:
// - at GMML's closed form, T = L_A^{-T} V diag(sigma)^{1/2} and lambda = c sigma come with it
//   (gmml.hpp), for no extra work;
// - at any M0 = L L^T, T = L Q with Q, lambda the eigensystem of c L^{-1} B L^{-T}.
struct ScaledCoordinates {
  Matrix T;
  Matrix inverse_curvature;  // 1 / (lambda_j + lambda_k)
  // T = L Q diag(s), or T = L^{-T} Q diag(s) when `inverse_factor`.
  Matrix L, Q;
  Vector s;
  bool inverse_factor = false;

  // T^{-1} Y without forming the inverse: diag(1/s) Q^T L^{-1} Y, or diag(1/s) Q^T L^T Y.
  Matrix solve(const Matrix& Y) const {
    Matrix Z = Y;
    if (inverse_factor) {
      multiply_lower_in_place(L, true, Z);
    } else {
      solve_lower_in_place(L, false, Z);
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
  coords.inverse_factor = true;
  return coords;
}

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

// The multiple s M minimising D's GMML part s tr(A M) + tr(cB M^{-1}) / s, the scale-free core of
// D: s = sqrt(tr(cB M^{-1}) / tr(A M)); NaN when M is not positive definite.
inline double gmml_scale(const Matrix& M, const Matrix& A, const Matrix& cB) {
  Eigen::LLT<Matrix> factor(M);
  if (factor.info() != Eigen::Success) return std::numeric_limits<double>::quiet_NaN();
  const Matrix M_inverse = factor.solve(Matrix::Identity(M.rows(), M.cols()));
  return std::sqrt(cB.cwiseProduct(M_inverse).sum() / A.cwiseProduct(M).sum());
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
  problem.evaluate(M, cur, &T);
  if (!cur.feasible) throw std::domain_error("the initial M is not positive definite");
  if (problem.record(out, M, cur, 0)) return;

  // From a start far off the solution's scale (init = 1e30 I, say) the iterates could only shrink
  // or grow M about twofold per iteration (the SPD cone bounds each step). Rescaling M by the best
  // multiple for D's GMML part fixes the scale at once: it is the first iteration when it lowers D.
  int first = 1;
  const double s0 = given_start ? gmml_scale(M, problem.A(), weighted_B) : 1.0;
  if (std::isfinite(s0) && s0 > 0 && (s0 > 4 || s0 < 0.25)) {
    Matrix M_scaled = s0 * M;
    Evaluation scaled;
    problem.evaluate(M_scaled, scaled);
    if (scaled.feasible && scaled.value < cur.value) {
      M = std::move(M_scaled);
      coords = scaled_coordinates(M, weighted_B);
      problem.evaluate(M, cur, &T);
      first = 2;
      if (problem.record(out, M, cur, 1)) return;
    }
  }

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

    double t = 1;
    bool accepted = false, capped = false;
    for (int trial = 0; trial < 60 && slope < 0; ++trial, t *= 0.5) {
      M_next = M + t * P_M;
      problem.evaluate(M_next, next, &T);
      if (!next.feasible) {
        // From a start far off the solution's scale the step can leave the SPD cone by more
        // orders of magnitude than 60 halvings undo. Jump straight to the first halving below
        // the cone's boundary: the step plain halving would reach, in one trial.
        if (!capped) {
          capped = true;
          const double limit = feasible_step_limit(X, P);
          if (limit < t && limit > 0) t *= 2 * std::exp2(std::floor(std::log2(limit / t)));
        }
        continue;
      }
      // Armijo; or, once the decrease is below what D's rounding can resolve (a relative gradient
      // of 1e-8 means a decrease of ~1e-16 D), the approximate Wolfe test of Hager and Zhang on the
      // directional derivative, which the gradient still resolves. It lets D rise by at most its
      // own rounding error, kRoundingSlack |D|.
      const double end_slope = inner(next.gradient, P);
      if (next.value <= cur.value + 1e-4 * t * slope ||
          (next.value <= cur.value + kRoundingSlack * std::abs(cur.value) && 0.9 * slope <= end_slope &&
           end_slope <= -0.8 * slope)) {
        accepted = true;
        break;
      }
    }
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
      out.message =
          "stopped: the line search cannot decrease the objective further (floating-point "
          "limit); relative gradient norm " +
          number(cur.relative_gradient);
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
      out.message =
          "stopped: the line search cannot decrease the objective further (floating-point "
          "limit); relative gradient norm " +
          number(cur.relative_gradient);
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

// Minimises D over SPD M for scatter matrices A, B (ridged here with options.reg). Without `init`
// LBFGS and PGD start from GMML's closed form (the exact minimiser for alpha = 0) and Paper from I.
inline SolveOutput solve(const Matrix& A, const Matrix& B, double alpha, double beta,
                         const std::optional<Matrix>& init, const SolverOptions& options,
                         const IterationCallback& callback = {}) {
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
  } else if (options.kind == SolverKind::LBFGS) {
    closed_form = gmml_solution(A_r, B_r);  // its factors give LBFGS's first coordinates
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
    case SolverKind::PGD:
      detail::projected_gradient(problem, std::move(M0), out);
      break;
    case SolverKind::Paper:
      detail::paper_algorithm(problem, std::move(M0), out);
      break;
  }
  return out;
}

}  // namespace advmetric
