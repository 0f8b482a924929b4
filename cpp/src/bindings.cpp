// Python bindings of the advmetric kernels (module advmetric._core).
//
// This layer only converts arguments, checks shapes defensively (the Python layer validates
// properly; these checks just make a bad call an exception instead of a crash) and releases the
// GIL around the kernels. Argument conversion happens first, with the GIL held; the kernels then
// read and write only the buffers of numpy arrays that this frame keeps referenced, and call no
// Python API, so running them without the GIL is safe.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <Eigen/Eigenvalues>
#include <advmetric/adversarial.hpp>
#include <advmetric/gmml.hpp>
#include <advmetric/hessian.hpp>
#include <advmetric/objective.hpp>
#include <advmetric/rational.hpp>
#include <advmetric/solver.hpp>
#include <advmetric/spectral.hpp>
#include <advmetric/statistics.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>

namespace py = pybind11;
using namespace advmetric;

namespace {

template <class T>
using CArray = py::array_t<T, py::array::c_style | py::array::forcecast>;
using DoubleArray = CArray<double>;
using LabelArray = CArray<std::int8_t>;
using IndexArray = CArray<std::int64_t>;

// The kernels read the buffers through typed pointers; the Python layer passes aligned arrays,
// and a direct call with a misaligned view gets an error instead of undefined behaviour.
template <class T>
void check_aligned(const CArray<T>& a, const char* name) {
  if (reinterpret_cast<std::uintptr_t>(a.data()) % alignof(T) != 0) {
    throw py::value_error(std::string(name) + " is not aligned in memory (copy it with numpy.require)");
  }
}

Matrix square_matrix(const DoubleArray& a, const char* name) {
  check_aligned(a, name);
  if (a.ndim() != 2 || a.shape(0) != a.shape(1)) {
    throw py::value_error(std::string(name) + " must be a square 2-D array");
  }
  return Eigen::Map<const RowMatrix>(a.data(), a.shape(0), a.shape(1));
}

// The public array API's value checks of M, A and B, done here because in C++ they cost one pass
// over the matrix, less than numpy's temporaries would at small d: finite, and symmetric to within
// 1e-8 of the largest entry. The kernels get the exactly symmetric part.
Matrix checked_symmetric(const DoubleArray& a, const char* name) {
  check_aligned(a, name);
  if (a.ndim() != 2 || a.shape(0) != a.shape(1)) {
    throw py::value_error(std::string(name) + " must be a square 2-D array");
  }
  // One pass over square tiles of both triangles: the row-major buffer read as column-major is the
  // transpose, which has the same symmetric part, so no copy or temporary is needed first.
  constexpr Index tile = 32;
  const Index d = a.shape(0);
  const Eigen::Map<const Matrix> m(a.data(), d, d);
  Matrix out(d, d);
  bool finite = true;
  double scale = 0, asymmetry = 0;
  for (Index k0 = 0; k0 < d; k0 += tile) {
    for (Index j0 = k0; j0 < d; j0 += tile) {
      const Index k1 = std::min(k0 + tile, d), j1 = std::min(j0 + tile, d);
      for (Index k = k0; k < k1; ++k) {
        for (Index j = std::max(j0, k); j < j1; ++j) {
          const double x = m(j, k), y = m(k, j);
          finite = finite && std::isfinite(x) && std::isfinite(y);
          scale = std::max(scale, std::max(std::abs(x), std::abs(y)));
          asymmetry = std::max(asymmetry, std::abs(x - y));
          out(j, k) = out(k, j) = 0.5 * (x + y);
        }
      }
    }
  }
  if (!finite) throw py::value_error(std::string(name) + " contains NaN or infinity");
  if (asymmetry > 1e-8 * scale) throw py::value_error(std::string(name) + " must be symmetric");
  return out;
}

std::string format_number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", x);
  return text;
}

// A scatter matrix is a sum of outer products: positive semi-definite. An indefinite one would give
// a meaningless D(M) (possibly negative), so the array API's A and B are checked. The estimators
// build A and B themselves and skip the check. Callers that already hold a Cholesky factor (the
// definite case) pass it as `factored`; only a matrix without one costs an eigenvalue check.
void check_positive_semidefinite(const Matrix& S, const char* name, bool factored = false) {
  if (factored || S.size() == 0 || Eigen::LLT<Matrix>(S).info() == Eigen::Success) return;
  const Vector l = Eigen::SelfAdjointEigenSolver<Matrix>(S, Eigen::EigenvaluesOnly).eigenvalues();
  if (l.minCoeff() < -1e-10 * std::max(l.cwiseAbs().maxCoeff(), 1e-300)) {
    throw py::value_error(std::string(name) +
                          " must be positive semi-definite (a sum of outer products of pair "
                          "differences); its smallest eigenvalue is " +
                          format_number(l.minCoeff()));
  }
}

// Why an evaluation of D(M) failed: M not positive definite, or a value beyond float64.
[[noreturn]] void throw_infeasible(const Matrix& M) {
  const Vector l = Eigen::SelfAdjointEigenSolver<Matrix>(M, Eigen::EigenvaluesOnly).eigenvalues();
  if (!(l.allFinite() && l.minCoeff() > 0)) {
    throw py::value_error("M must be symmetric positive definite (smallest eigenvalue " +
                          format_number(l.size() ? l.minCoeff() : 0.0) + ")");
  }
  throw py::value_error("D(M) is not finite in float64: alpha, beta or the scale of M, A and B is too large");
}

void check_same_size(const Matrix& X, const Matrix& Y, const char* x_name, const char* y_name) {
  if (X.rows() != Y.rows()) {
    throw py::value_error(std::string(x_name) + " and " + y_name + " must have the same shape");
  }
}

py::array_t<double> to_numpy(const Matrix& m) {
  py::array_t<double> out({m.rows(), m.cols()});
  Eigen::Map<RowMatrix>(out.mutable_data(), m.rows(), m.cols()) = m;
  return out;
}

PairArray pair_view(const DoubleArray& pairs) {
  check_aligned(pairs, "pairs");
  if (pairs.ndim() != 3 || pairs.shape(1) != 2) {
    throw py::value_error("pairs must have shape (n_pairs, 2, n_features)");
  }
  return {pairs.data(), pairs.shape(0), pairs.shape(2)};
}

IndexedPairs indexed_view(const DoubleArray& X, const IndexArray& index) {
  check_aligned(X, "X");
  check_aligned(index, "index pairs");
  if (X.ndim() != 2) throw py::value_error("X must be a 2-D array");
  if (index.ndim() != 2 || index.shape(1) != 2) {
    throw py::value_error("index pairs must have shape (n_pairs, 2)");
  }
  const std::int64_t* idx = index.data();
  const std::int64_t n_rows = X.shape(0);
  for (py::ssize_t k = 0; k < index.size(); ++k) {
    if (idx[k] < 0 || idx[k] >= n_rows) throw py::value_error("index pairs out of range for X");
  }
  return {X.data(), X.shape(0), X.shape(1), idx, index.shape(0)};
}

const std::int8_t* label_view(const LabelArray& y, Index n) {
  if (y.ndim() != 1 || y.shape(0) != n) {
    throw py::value_error("labels must be a 1-D array with one entry per pair");
  }
  return y.data();
}

void check_pairs_matrix(Index d, const Matrix& M) {
  if (M.rows() != d) throw py::value_error("M does not match the number of features of the pairs");
}

template <class Pairs>
py::tuple scatter(const Pairs& view, const std::int8_t* labels, int n_threads) {
  Scatter s;
  {
    py::gil_scoped_release release;
    s = scatter_matrices(view, labels, n_threads);
  }
  return py::make_tuple(to_numpy(s.A), to_numpy(s.B), s.n_similar, s.n_dissimilar);
}

// M, A and B of one evaluation of D, checked in the order the array API documents (A, B, then M
// against A's size), A and B with their Cholesky factors where they have one.
struct Problem {
  Matrix M;
  ScatterOperand A, B;
};

Problem checked_problem(const DoubleArray& M_in, const DoubleArray& A_in, const DoubleArray& B_in,
                        bool check_scatter) {
  Matrix A = checked_symmetric(A_in, "A"), B = checked_symmetric(B_in, "B");
  check_same_size(A, B, "A", "B");
  Matrix M = checked_symmetric(M_in, "M");
  check_same_size(A, M, "A", "M");
  // The factorisations need no Python: without the GIL (an error raised here is a C++ exception,
  // translated once the GIL is back).
  py::gil_scoped_release release;
  Problem p{std::move(M), ScatterOperand(std::move(A)), ScatterOperand(std::move(B))};
  if (check_scatter) {
    check_positive_semidefinite(p.A.matrix(), "A", p.A.factored());
    check_positive_semidefinite(p.B.matrix(), "B", p.B.factored());
  }
  return p;
}

// One evaluation of D for the array API: through Cholesky factors when M is well conditioned
// enough for that route (rational.hpp), else, or with `eigenbasis`, in M's eigenbasis.
Evaluation evaluate_checked(const Problem& p, double alpha, double beta, bool with_gradient,
                            bool eigenbasis = true) {
  Evaluation e;
  {
    py::gil_scoped_release release;
    std::optional<Evaluation> rational;
    if (!eigenbasis)
      rational = evaluate_rational(p.M, p.A.matrix(), p.B.matrix(), alpha, beta, with_gradient);
    e = rational ? std::move(*rational) : evaluate(p.M, p.A, p.B, alpha, beta, with_gradient);
  }
  if (!e.feasible) throw_infeasible(p.M);
  return e;
}

// A and B for GMML and the solver, checked once.
std::pair<Matrix, Matrix> checked_scatter_pair(const DoubleArray& A_in, const DoubleArray& B_in,
                                               bool check_scatter) {
  Matrix A = checked_symmetric(A_in, "A"), B = checked_symmetric(B_in, "B");
  check_same_size(A, B, "A", "B");
  if (check_scatter) {
    py::gil_scoped_release release;  // as in checked_problem
    check_positive_semidefinite(A, "A"), check_positive_semidefinite(B, "B");
  }
  return {std::move(A), std::move(B)};
}

py::dict counters_dict(const WorkCounters& c) {
  py::dict counters;
  counters["eigendecompositions"] = c.eigendecompositions;
  counters["svds"] = c.svds;
  counters["choleskys"] = c.choleskys;
  counters["gemm_calls"] = c.gemm_calls;
  counters["objective_evaluations"] = c.objective_evaluations;
  counters["gradient_evaluations"] = c.gradient_evaluations;
  counters["hessian_vector_products"] = c.hessian_vector_products;
  counters["iterations"] = c.iterations;
  return counters;
}

SolverKind solver_kind(const std::string& name) {
  if (name == "lbfgs") return SolverKind::LBFGS;
  if (name == "pgd") return SolverKind::PGD;
  if (name == "paper") return SolverKind::Paper;
  if (name == "newton-cg") return SolverKind::Newton;
  throw py::value_error("unknown solver '" + name + "'");
}

// How this module was built, for advmetric.show_config() and bug reports. The compiler's identity
// comes from CMake (ADVMETRIC_COMPILER_*); the rest is read from the headers this file compiled with.
#ifndef ADVMETRIC_COMPILER_ID
#define ADVMETRIC_COMPILER_ID "unknown"
#define ADVMETRIC_COMPILER_VERSION "unknown"
#endif
#ifndef ADVMETRIC_NATIVE_BUILD
#define ADVMETRIC_NATIVE_BUILD 0
#endif
py::dict build_info() {
  py::dict info;
  info["version"] = ADVMETRIC_VERSION;
  info["compiler_id"] = ADVMETRIC_COMPILER_ID;
  info["compiler_version"] = ADVMETRIC_COMPILER_VERSION;
  info["cxx_standard"] = static_cast<long>(__cplusplus);
  info["native"] = ADVMETRIC_NATIVE_BUILD != 0;  // -march=native: this CPU only
  info["openmp"] = has_openmp();
#ifdef _OPENMP
  info["openmp_version"] = static_cast<long>(_OPENMP);  // yyyymm of the supported specification
  info["openmp_max_threads"] = omp_get_max_threads();
#else
  info["openmp_version"] = py::none();
  info["openmp_max_threads"] = 1;
#endif
  info["eigen_version"] = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) +
                          "." + std::to_string(EIGEN_MINOR_VERSION);
  info["simd"] = Eigen::SimdInstructionSetsInUse();
  return info;
}

// -- one register_* function per concept --------------------------------------------------------

void register_build(py::module_& m) {
  m.attr("__version__") = ADVMETRIC_VERSION;
  m.attr("MAX_PRIVATE_SCATTER_DIM") = kMaxPrivateScatterDim;
  m.attr("BLAS_FROM_DIM") =
      std::min({blas::min_size(blas::Work::kProduct), blas::min_size(blas::Work::kSpectral),
                blas::min_size(blas::Work::kScatterPass)});
  m.def("has_openmp", &has_openmp, "Whether the extension was built with OpenMP.");
  m.def("build_info", &build_info, "How the extension was built: compiler, OpenMP, Eigen, SIMD.");
  m.def(
      "_set_blas",
      [m](const py::dict& capsules) {
        auto pointer = [&capsules](const char* name) {
          if (!capsules.contains(name))
            throw py::key_error(std::string("missing BLAS/LAPACK routine ") + name);
          const py::object c = capsules[name];
          if (!PyCapsule_CheckExact(c.ptr())) throw py::type_error(std::string(name) + " must be a capsule");
          void* p = PyCapsule_GetPointer(c.ptr(), PyCapsule_GetName(c.ptr()));
          if (p == nullptr) throw py::error_already_set();
          return p;
        };
        blas::Routines r;  // filled completely before it replaces the current set
        r.dgemm = reinterpret_cast<blas::dgemm_fn*>(pointer("dgemm"));
        r.dsyrk = reinterpret_cast<blas::dsyrk_fn*>(pointer("dsyrk"));
        r.dsyr2k = reinterpret_cast<blas::dsyr2k_fn*>(pointer("dsyr2k"));
        r.dtrmm = reinterpret_cast<blas::dtrmm_fn*>(pointer("dtrmm"));
        r.dtrsm = reinterpret_cast<blas::dtrsm_fn*>(pointer("dtrsm"));
        r.dsyevd = reinterpret_cast<blas::dsyevd_fn*>(pointer("dsyevd"));
        r.dpotrf = reinterpret_cast<blas::dpotrf_fn*>(pointer("dpotrf"));
        r.dpotri = reinterpret_cast<blas::dpotri_fn*>(pointer("dpotri"));
        r.dpocon = reinterpret_cast<blas::dpocon_fn*>(pointer("dpocon"));
        r.dgesdd = reinterpret_cast<blas::dgesdd_fn*>(pointer("dgesdd"));
        r.enabled = blas::routines().enabled;
        blas::routines() = r;
        // The routines live in SciPy's extension modules; keep their capsules referenced.
        py::module_(m).attr("_blas_capsules") = capsules;
      },
      py::arg("capsules"),
      "Use these scipy.linalg.cython_blas/cython_lapack routines (capsules by routine name) for "
      "large products, factorisations and eigensystems.");
  m.def(
      "_use_blas", [](bool enabled) { blas::routines().enabled = enabled; }, py::arg("enabled"),
      "Switch the BLAS/LAPACK path on or off (off: Eigen's kernels everywhere).");
  m.def("blas_active", &blas::available, "Whether BLAS/LAPACK routines are set and enabled.");
  m.def("max_threads", [] { return thread_count(0, 1 << 30); }, "Threads used when n_threads <= 0.");
}

void register_statistics(py::module_& m) {
  m.def(
      "pair_statistics",
      [](const DoubleArray& pairs, const LabelArray& y, int n_threads) {
        const PairArray view = pair_view(pairs);
        return scatter(view, label_view(y, view.n), n_threads);
      },
      py::arg("pairs"), py::arg("y"), py::arg("n_threads") = 0,
      "(A, B, n_similar, n_dissimilar) from (n, 2, d) pairs and int8 labels in {-1, +1}.");
  m.def(
      "pair_statistics_indices",
      [](const DoubleArray& X, const IndexArray& index, const LabelArray& y, int n_threads) {
        const IndexedPairs view = indexed_view(X, index);
        return scatter(view, label_view(y, view.n), n_threads);
      },
      py::arg("X"), py::arg("index_pairs"), py::arg("y"), py::arg("n_threads") = 0,
      "(A, B, n_similar, n_dissimilar) from rows of X paired by an (n, 2) int64 index array.");
}

void register_adversarial(py::module_& m) {
  m.def(
      "adversarial_pairs",
      [](const DoubleArray& M_in, const DoubleArray& pairs, const LabelArray& y, double beta, int n_threads) {
        const PairArray view = pair_view(pairs);
        const std::int8_t* labels = label_view(y, view.n);
        const Matrix M = checked_symmetric(M_in, "M");
        check_pairs_matrix(view.d, M);
        py::array_t<double> out({view.n, Index(2), view.d});
        double* out_data = out.mutable_data();
        {
          py::gil_scoped_release release;
          adversarial_pairs(M, view, labels, beta, out_data, n_threads);
        }
        return out;
      },
      py::arg("M"), py::arg("pairs"), py::arg("y"), py::arg("beta"), py::arg("n_threads") = 0);
}

void register_objective(py::module_& m) {
  m.def(
      "objective",
      [](const DoubleArray& M, const DoubleArray& A, const DoubleArray& B, double alpha, double beta,
         bool check_scatter, bool eigenbasis) {
        return evaluate_checked(checked_problem(M, A, B, check_scatter), alpha, beta, false, eigenbasis)
            .value;
      },
      py::arg("M"), py::arg("A"), py::arg("B"), py::arg("alpha"), py::arg("beta"),
      py::arg("check_scatter") = true, py::arg("eigenbasis") = false,
      "D(M); `eigenbasis` forces the evaluation in M's eigenbasis (else Cholesky factors where accurate).");
  m.def(
      "gradient",
      [](const DoubleArray& M, const DoubleArray& A, const DoubleArray& B, double alpha, double beta,
         bool check_scatter, bool eigenbasis) {
        return to_numpy(
            evaluate_checked(checked_problem(M, A, B, check_scatter), alpha, beta, true, eigenbasis)
                .gradient);
      },
      py::arg("M"), py::arg("A"), py::arg("B"), py::arg("alpha"), py::arg("beta"),
      py::arg("check_scatter") = true, py::arg("eigenbasis") = false,
      "grad D(M); `eigenbasis` as for objective.");
  m.def(
      "evaluate",
      [](const DoubleArray& M, const DoubleArray& A, const DoubleArray& B, double alpha, double beta,
         bool check_scatter) {
        const Evaluation e = evaluate_checked(checked_problem(M, A, B, check_scatter), alpha, beta, true);
        return py::make_tuple(e.value, to_numpy(e.gradient), e.relative_gradient);
      },
      py::arg("M"), py::arg("A"), py::arg("B"), py::arg("alpha"), py::arg("beta"),
      py::arg("check_scatter") = true,
      "(D(M), grad D(M), ||M^{1/2} grad M^{1/2}||_F / D(M)) from one eigendecomposition.");
  m.def(
      "hessian_vector",
      [](const DoubleArray& M_in, const DoubleArray& A_in, const DoubleArray& B_in, double alpha, double beta,
         const DoubleArray& V_in, bool check_scatter) {
        const Problem p = checked_problem(M_in, A_in, B_in, check_scatter);
        const Matrix V = square_matrix(V_in, "V");
        check_same_size(p.M, V, "M", "V");
        Matrix H;
        {
          py::gil_scoped_release release;
          H = hessian_vector(p.M, p.A.matrix(), p.B.matrix(), alpha, beta, V);
        }
        return to_numpy(H);
      },
      py::arg("M"), py::arg("A"), py::arg("B"), py::arg("alpha"), py::arg("beta"), py::arg("V"),
      py::arg("check_scatter") = true, "The Hessian of D at M applied to the symmetric part of V.");
  m.def(
      "_best_eigenvalue",
      [](double a, double b, double alpha, double beta, double start) {
        if (!(a > 0 && b > 0 && std::isfinite(a) && std::isfinite(b))) {
          throw py::value_error("a and b must be positive and finite");
        }
        if (!(alpha >= 0 && std::isfinite(alpha))) throw py::value_error("alpha must be >= 0 and finite");
        if (!(beta > 0 && std::isfinite(beta))) throw py::value_error("beta must be > 0 and finite");
        if (!(start > 0 && std::isfinite(start))) throw py::value_error("start must be positive and finite");
        return AdversarialSpectrum{alpha, beta}.best_eigenvalue(a, b, start);
      },
      py::arg("a"), py::arg("b"), py::arg("alpha"), py::arg("beta"), py::arg("start"),
      "The m > 0 minimising a f(m) + b / m, f(l) = l + alpha beta^2 h_+(l): Newton-CG's eigenvalue "
      "step for one eigenvector (a = u^T A u, b = u^T c B u). For tests.");
  m.def(
      "gradient_pairwise",
      [](const DoubleArray& M_in, const DoubleArray& pairs, const LabelArray& y, double alpha, double beta,
         int n_threads) {
        const PairArray view = pair_view(pairs);
        const std::int8_t* labels = label_view(y, view.n);
        const Matrix M = checked_symmetric(M_in, "M");
        check_pairs_matrix(view.d, M);
        Matrix G;
        {
          py::gil_scoped_release release;
          G = gradient_pairwise(M, view, labels, alpha, beta, n_threads);
        }
        return to_numpy(G);
      },
      py::arg("M"), py::arg("pairs"), py::arg("y"), py::arg("alpha"), py::arg("beta"),
      py::arg("n_threads") = 0);
}

void register_spectral(py::module_& m) {
  m.def(
      "project_spd",
      [](const DoubleArray& M_in, double eps) {
        const Matrix M = checked_symmetric(M_in, "M");
        Matrix P;
        {
          py::gil_scoped_release release;
          P = project_spd(M, eps);
        }
        return to_numpy(P);
      },
      py::arg("M"), py::arg("eps"));
}

void register_gmml(py::module_& m) {
  m.def(
      "ridge",
      [](const DoubleArray& A_in, const DoubleArray& B_in, double reg, bool check_scatter) {
        const auto [A, B] = checked_scatter_pair(A_in, B_in, check_scatter);
        auto [A_r, B_r] = ridge(A, B, reg);
        return py::make_tuple(to_numpy(A_r), to_numpy(B_r));
      },
      py::arg("A"), py::arg("B"), py::arg("reg"), py::arg("check_scatter") = true);
  m.def(
      "gmml",
      [](const DoubleArray& A_in, const DoubleArray& B_in, double reg, bool check_scatter) {
        const auto [A, B] = checked_scatter_pair(A_in, B_in, check_scatter);
        Matrix M;
        {
          py::gil_scoped_release release;
          auto [A_r, B_r] = ridge(A, B, reg);
          M = gmml(A_r, B_r);
        }
        return to_numpy(M);
      },
      py::arg("A"), py::arg("B"), py::arg("reg") = 0.0, py::arg("check_scatter") = true);
}

void register_solver(py::module_& m) {
  m.def(
      "solve",
      [](const DoubleArray& A_in, const DoubleArray& B_in, double alpha, double beta,
         const std::string& solver, int max_iter, double tol, double reg,
         const std::optional<DoubleArray>& init_in, double step, double eig_floor, int memory,
         const py::object& callback, bool check_scatter) {
        const auto [A, B] = checked_scatter_pair(A_in, B_in, check_scatter);
        std::optional<Matrix> init;
        if (init_in) {
          init = square_matrix(*init_in, "init");
          check_same_size(A, *init, "A", "init");
        }
        SolverOptions options;
        options.kind = solver_kind(solver);
        options.max_iter = max_iter, options.tol = tol, options.reg = reg, options.step = step;
        options.eig_floor = eig_floor, options.memory = memory;
        // Runs once per iteration (O(d^3) work in between): take the GIL back to let Ctrl-C raise
        // KeyboardInterrupt promptly and to call the user's callback.
        const IterationCallback on_iteration = [&callback](const IterationInfo& info) {
          py::gil_scoped_acquire acquire;
          if (PyErr_CheckSignals() != 0) throw py::error_already_set();
          if (!callback.is_none()) callback(info.iteration, info.objective, info.relative_gradient);
        };
        SolveOutput out;
        {
          py::gil_scoped_release release;
          out = advmetric::solve(A, B, alpha, beta, init, options, on_iteration);
        }
        py::dict result;
        result["M"] = to_numpy(out.M);
        result["n_iter"] = out.n_iter;
        result["objective_history"] = py::array_t<double>(out.objective.size(), out.objective.data());
        result["gradient_norm_history"] =
            py::array_t<double>(out.relative_gradient.size(), out.relative_gradient.data());
        result["converged"] = out.converged;
        result["message"] = out.message;
        result["counters"] = counters_dict(out.counters);
        return result;
      },
      py::arg("A"), py::arg("B"), py::arg("alpha"), py::arg("beta"), py::arg("solver") = "newton-cg",
      py::arg("max_iter") = 1000, py::arg("tol") = 1e-8, py::arg("reg") = 0.0, py::arg("init") = py::none(),
      py::arg("step") = 1e-3, py::arg("eig_floor") = 1e-12, py::arg("memory") = 10,
      py::arg("callback") = py::none(), py::arg("check_scatter") = true);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "advmetric compiled kernels (C++17, Eigen, OpenMP); reached through advmetric._backend.";
  register_build(m);
  register_statistics(m);
  register_adversarial(m);
  register_objective(m);
  register_spectral(m);
  register_gmml(m);
  register_solver(m);
}
