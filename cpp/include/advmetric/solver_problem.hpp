// What every solver of D(M) shares: options, the result, and `Problem`, which evaluates D and its
// gradient (one eigendecomposition each) and records the iterates.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "counters.hpp"
#include "objective.hpp"

namespace advmetric {

enum class SolverKind { LBFGS, PGD, Paper, Newton };

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
  WorkCounters counters;  // the work this solve did, GMML's start included
};

namespace detail {

inline double inner(const Matrix& X, const Matrix& Y) { return X.cwiseProduct(Y).sum(); }

inline std::string number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", x);
  return text;
}

// Why a solver stopped when no step lowers D any more.
inline std::string line_search_stopped(double relative_gradient) {
  return "stopped: the line search cannot decrease the objective further (floating-point limit); "
         "relative gradient norm " +
         number(relative_gradient);
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
    count_evaluation();
    evaluator_(M, true, e, basis);
  }
  const Matrix& A() const { return A_.matrix(); }
  // The evaluator, whose last evaluation's pieces the Hessian reuses.
  const Evaluator& evaluator() const { return evaluator_; }
  Evaluator& evaluator() { return evaluator_; }
  // c B, where c = 1 + alpha beta^2 / (2 + beta)^2 is D's weight on tr(B M^{-1}).
  double weight_of_B() const { return 1 + AdversarialSpectrum{alpha_, beta_}.minus_weight(); }
  Matrix weighted_B() const { return weight_of_B() * B_.matrix(); }
  Evaluation evaluate(const Matrix& M) {
    Evaluation e;
    count_evaluation();
    evaluator_(M, true, e);
    return e;
  }

  // Records an iterate; returns true when the gradient test is met.
  bool record(SolveOutput& out, const Matrix& M, const Evaluation& e, int iteration) const {
    out.M = M;
    out.n_iter = iteration;
    out.objective.push_back(e.value * scale_);
    out.relative_gradient.push_back(e.relative_gradient);
    work_counters().iterations = iteration;
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

  // Counts one evaluation of D and its gradient; public for those done through the evaluator's
  // parts directly (Newton's start, newton.hpp).
  static void count_evaluation() {
    WorkCounters& c = work_counters();
    ++c.objective_evaluations;
    ++c.gradient_evaluations;
  }

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

}  // namespace detail
}  // namespace advmetric
