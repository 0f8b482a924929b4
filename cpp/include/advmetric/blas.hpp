// Dense kernels: matrix products and the symmetric eigensolver, through the BLAS/LAPACK that
// SciPy ships when the routines are handed to the core (blas::routines()), else through Eigen.
//
// Wheels cannot assume AVX2/FMA (no -march=native), so Eigen's own GEMM runs on SSE2 kernels and
// its eigensolver falls well behind LAPACK's divide-and-conquer dsyevd as d grows. SciPy's
// OpenBLAS picks its kernels for the CPU at run time. Its routines arrive as function pointers
// (SciPy's cython_blas / cython_lapack capsules), so nothing is linked at build time and Eigen
// remains the fallback.
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/SVD>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.hpp"
#include "counters.hpp"

namespace advmetric {
namespace blas {

// Fortran calling convention as exported by scipy.linalg.cython_blas / cython_lapack.
using dgemm_fn = void(char*, char*, int*, int*, int*, double*, double*, int*, double*, int*, double*, double*,
                      int*);
using dsyrk_fn = void(char*, char*, int*, int*, double*, double*, int*, double*, double*, int*);
using dsyevd_fn = void(char*, char*, int*, double*, int*, double*, double*, int*, int*, int*, int*);
using dsyr2k_fn = void(char*, char*, int*, int*, double*, double*, int*, double*, int*, double*, double*,
                       int*);
using dtrmm_fn = void(char*, char*, char*, char*, int*, int*, double*, double*, int*, double*, int*);
using dtrsm_fn = void(char*, char*, char*, char*, int*, int*, double*, double*, int*, double*, int*);
using dpotrf_fn = void(char*, int*, double*, int*, int*);
using dpotri_fn = dpotrf_fn;
using dpocon_fn = void(char*, int*, double*, int*, double*, double*, double*, int*, int*);
using dgesdd_fn = void(char*, int*, int*, double*, int*, double*, double*, int*, double*, int*, double*, int*,
                       int*, int*);

struct Routines {
  dgemm_fn* dgemm = nullptr;
  dsyrk_fn* dsyrk = nullptr;
  dsyr2k_fn* dsyr2k = nullptr;
  dsyevd_fn* dsyevd = nullptr;
  dtrmm_fn* dtrmm = nullptr;
  dtrsm_fn* dtrsm = nullptr;
  dpotrf_fn* dpotrf = nullptr;
  dpotri_fn* dpotri = nullptr;
  dpocon_fn* dpocon = nullptr;
  dgesdd_fn* dgesdd = nullptr;
  bool enabled = true;  // switch for tests and benchmarks that compare with the Eigen path
};

inline Routines& routines() {
  static Routines r;
  return r;
}

inline bool available() {
  const Routines& r = routines();
  return r.enabled && r.dgemm && r.dsyrk && r.dsyr2k && r.dsyevd && r.dtrmm && r.dtrsm && r.dpotrf &&
         r.dpotri && r.dpocon && r.dgesdd;
}

// What each kind of dense work is, for the one decision below: BLAS/LAPACK or Eigen.
enum class Work {
  kProduct,   // products, triangular solves, Cholesky: dgemm, dtrmm, dtrsm, dsyrk, dsyr2k, dpotr[fi], dpocon
  kSpectral,  // eigensystems and singular value decompositions: dsyevd, dgesdd
  kScatterPass  // the statistics pass's rank updates, made from each OpenMP thread
};

// The dispatch table: the smallest size at which each kind of work goes to BLAS/LAPACK. Below
// it Eigen's kernels keep up or win, because the call overhead and BLAS's small-matrix paths
// outweigh its faster inner kernels. The spectral switch is about where dsyevd and Eigen's
// SelfAdjointEigenSolver cost the same (dgesdd against BDCSVD crosses over near the same size);
// the crossovers move with the CPU, so re-measure before moving them. The scatter pass stays with
// Eigen's rank updates (OpenMP threads over blocks) below its switch.
constexpr Index kMinGemmDim = 24;
constexpr Index kMinEigenDim = 32;
constexpr Index kMinScatterDim = 128;

inline constexpr Index min_size(Work work) {
  switch (work) {
    case Work::kProduct:
      return kMinGemmDim;
    case Work::kSpectral:
      return kMinEigenDim;
    case Work::kScatterPass:
      return kMinScatterDim;
  }
  return kMinScatterDim;
}

// Whether work of this kind and size goes to BLAS/LAPACK: the routines are set and enabled, and
// the size reaches the table's switch.
inline bool use(Work work, Index size) { return available() && size >= min_size(work); }

}  // namespace blas

// C = op(X) op(Y), op = transpose when the flag is set. C's storage is reused when its size fits,
// which matters in the solver loop: fresh multi-megabyte temporaries cost page faults.
inline void multiply_into(Matrix& C, const Matrix& X, bool tx, const Matrix& Y, bool ty) {
  const Index m = tx ? X.cols() : X.rows(), k = tx ? X.rows() : X.cols();
  const Index n = ty ? Y.rows() : Y.cols();
  C.resize(m, n);
  ++work_counters().gemm_calls;
  if (!blas::use(blas::Work::kProduct, std::min({m, n, k}))) {
    if (tx && ty) {
      C.noalias() = X.transpose() * Y.transpose();
    } else if (tx) {
      C.noalias() = X.transpose() * Y;
    } else if (ty) {
      C.noalias() = X * Y.transpose();
    } else {
      C.noalias() = X * Y;
    }
    return;
  }
  char ta = tx ? 'T' : 'N', tb = ty ? 'T' : 'N';
  int m_ = static_cast<int>(m), n_ = static_cast<int>(n), k_ = static_cast<int>(k);
  int ldx = static_cast<int>(X.rows()), ldy = static_cast<int>(Y.rows()), ldc = m_;
  double one = 1, zero = 0;
  blas::routines().dgemm(&ta, &tb, &m_, &n_, &k_, &one, const_cast<double*>(X.data()), &ldx,
                         const_cast<double*>(Y.data()), &ldy, &zero, C.data(), &ldc);
}

// The first m rows of `out` = the first m rows of `rows` times the symmetric S (row-major
// blocks of d columns). A row-major block is the column-major transpose, so this is one
// out^T = S rows^T product (S^T = S). Called from OpenMP threads: BLAS must then run on one
// thread, so that each call stays on the thread that makes it.
inline void rows_times_symmetric_into(RowMatrix& out, const RowMatrix& rows, Index m, const Matrix& S) {
  const Index d = S.rows();
  if (m == 0) return;
  ++work_counters().gemm_calls;
  if (!blas::use(blas::Work::kProduct, d)) {
    out.topRows(m).noalias() = rows.topRows(m) * S;
    return;
  }
  char no = 'N';
  int d_ = static_cast<int>(d), m_ = static_cast<int>(m), ld_rows = static_cast<int>(rows.cols()),
      ld_out = static_cast<int>(out.cols());
  double one = 1, zero = 0;
  blas::routines().dgemm(&no, &no, &d_, &m_, &d_, &one, const_cast<double*>(S.data()), &d_,
                         const_cast<double*>(rows.data()), &ld_rows, &zero, out.data(), &ld_out);
}

inline Matrix multiply(const Matrix& X, bool tx, const Matrix& Y, bool ty) {
  Matrix C;
  multiply_into(C, X, tx, Y, ty);
  return C;
}

// out = U^T X U: X expressed in the basis of U's columns (`work` is scratch).
inline void to_basis_into(Matrix& out, Matrix& work, const Matrix& U, const Matrix& X) {
  multiply_into(work, X, false, U, false);
  multiply_into(out, U, true, work, false);
}

// out = U Y U^T: back from that basis (`work` is scratch).
inline void from_basis_into(Matrix& out, Matrix& work, const Matrix& U, const Matrix& Y) {
  multiply_into(work, U, false, Y, false);
  multiply_into(out, work, false, U, true);
}

inline Matrix to_basis(const Matrix& U, const Matrix& X) {
  Matrix out, work;
  to_basis_into(out, work, U, X);
  return out;
}

inline Matrix from_basis(const Matrix& U, const Matrix& Y) {
  Matrix out, work;
  from_basis_into(out, work, U, Y);
  return out;
}

// LAPACK dpotrf on the lower triangle of S, in place (the strict upper triangle is left as it
// was); false when S is not (numerically) positive definite.
inline bool lapack_cholesky_in_place(Matrix& S) {
  char uplo = 'L';
  int n = static_cast<int>(S.rows()), lda = n, info = 0;
  blas::routines().dpotrf(&uplo, &n, S.data(), &lda, &info);
  return info == 0;
}

// The lower Cholesky factor of a symmetric positive definite S, or nothing when S is not
// (numerically) positive definite.
inline std::optional<Matrix> cholesky_lower(const Matrix& S) {
  const Index d = S.rows();
  ++work_counters().choleskys;
  if (!blas::use(blas::Work::kProduct, d)) {
    Eigen::LLT<Matrix> llt(S);
    if (llt.info() != Eigen::Success) return std::nullopt;
    return Matrix(llt.matrixL());
  }
  Matrix L = S;
  if (!lapack_cholesky_in_place(L)) return std::nullopt;
  L.triangularView<Eigen::StrictlyUpper>().setZero();
  return L;
}

// Copies the lower triangle onto the upper one, in square tiles: a plain column loop reads the
// lower triangle row-wise, one cache miss per element at large d.
inline void fill_upper_from_lower(Matrix& S) {
  constexpr Index tile = 32;
  const Index d = S.cols();
  for (Index k0 = 0; k0 < d; k0 += tile) {
    for (Index j0 = 0; j0 <= k0; j0 += tile) {
      const Index k1 = std::min(k0 + tile, d), j1 = std::min(j0 + tile, d);
      for (Index k = k0; k < k1; ++k) {
        for (Index j = j0; j < std::min(j1, k); ++j) S(j, k) = S(k, j);
      }
    }
  }
}

// out = U^T S U for S = L L^T, as the Gram matrix of W = L^T U: a triangular product and a rank-k
// update, half the flops of two general products, and positive semidefinite by construction.
// With `lower_only` the strict upper triangle of `out` is left undefined.
inline void to_basis_factored_into(Matrix& out, Matrix& W, const Matrix& L, const Matrix& U,
                                   bool lower_only = false) {
  const Index d = U.rows();
  out.resize(d, d);
  work_counters().gemm_calls += 2;
  if (!blas::use(blas::Work::kProduct, d)) {
    W.noalias() = L.transpose().triangularView<Eigen::Upper>() * U;
    out.setZero();
    out.selfadjointView<Eigen::Lower>().rankUpdate(W.transpose());
  } else {
    W = U;
    char side = 'L', uplo = 'L', trans = 'T', diag = 'N', syrk_trans = 'T';
    int n = static_cast<int>(d), ld = n;
    double one = 1, zero = 0;
    blas::routines().dtrmm(&side, &uplo, &trans, &diag, &n, &n, &one, const_cast<double*>(L.data()), &ld,
                           W.data(), &ld);
    blas::routines().dsyrk(&uplo, &syrk_trans, &n, &n, &one, W.data(), &ld, &zero, out.data(), &ld);
  }
  if (!lower_only) fill_upper_from_lower(out);
}

// out = T S T^T for a symmetric S given by its lower triangle, whose diagonal must already be
// halved (S = H + H^T for H = lower(S_half)): the triangular product W = T H and the rank-2k
// update W T^T + T W^T, 1.5 general products instead of 2. `S_half`'s upper triangle is not read;
// `W` is scratch. With `lower_only` the strict upper triangle of `out` is left undefined.
inline void congruence_of_half_lower_into(Matrix& out, Matrix& W, const Matrix& T, const Matrix& S_half,
                                          bool lower_only = false) {
  const Index d = T.rows();
  out.resize(d, d);
  work_counters().gemm_calls += 2;
  if (!blas::use(blas::Work::kProduct, d)) {
    W.noalias() = T * S_half.triangularView<Eigen::Lower>();
    out.noalias() = W * T.transpose();
    out += out.transpose().eval();
    return;
  }
  W = T;
  char side = 'R', uplo = 'L', trans = 'N', diag = 'N';
  int n = static_cast<int>(d), ld = n;
  double one = 1, zero = 0;
  blas::routines().dtrmm(&side, &uplo, &trans, &diag, &n, &n, &one, const_cast<double*>(S_half.data()), &ld,
                         W.data(), &ld);
  blas::routines().dsyr2k(&uplo, &trans, &n, &n, &one, W.data(), &ld, const_cast<double*>(T.data()), &ld,
                          &zero, out.data(), &ld);
  if (!lower_only) fill_upper_from_lower(out);
}

namespace detail {
// Y <- op(L)^{-1} Y or op(L) Y through dtrsm or dtrmm (the two share their argument list).
inline void lower_triangular_blas(blas::dtrmm_fn* routine, const Matrix& L, bool transpose, Matrix& Y) {
  char side = 'L', uplo = 'L', trans = transpose ? 'T' : 'N', diag = 'N';
  int n = static_cast<int>(L.rows()), m = static_cast<int>(Y.cols()), ld = n;
  double one = 1;
  routine(&side, &uplo, &trans, &diag, &n, &m, &one, const_cast<double*>(L.data()), &ld, Y.data(), &ld);
}
}  // namespace detail

// Y <- op(L)^{-1} Y for a lower triangular L (op = transpose when the flag is set).
inline void solve_lower_in_place(const Matrix& L, bool transpose, Matrix& Y) {
  ++work_counters().gemm_calls;
  if (blas::use(blas::Work::kProduct, L.rows())) {
    detail::lower_triangular_blas(blas::routines().dtrsm, L, transpose, Y);
  } else if (transpose) {
    L.transpose().triangularView<Eigen::Upper>().solveInPlace(Y);
  } else {
    L.triangularView<Eigen::Lower>().solveInPlace(Y);
  }
}

// Y <- op(L) Y for a lower triangular L (op = transpose when the flag is set).
inline void multiply_lower_in_place(const Matrix& L, bool transpose, Matrix& Y) {
  ++work_counters().gemm_calls;
  if (blas::use(blas::Work::kProduct, L.rows())) {
    detail::lower_triangular_blas(blas::routines().dtrmm, L, transpose, Y);
  } else if (transpose) {
    Y = L.transpose().triangularView<Eigen::Upper>() * Y;
  } else {
    Y = L.triangularView<Eigen::Lower>() * Y;
  }
}

// The Cholesky factor of S (as cholesky_lower) when S is positive definite with reciprocal
// condition number (1-norm estimate) above `min_rcond`; nothing otherwise.
inline std::optional<Matrix> well_conditioned_cholesky(const Matrix& S, double min_rcond) {
  const Index d = S.rows();
  ++work_counters().choleskys;
  if (!blas::use(blas::Work::kProduct, d)) {
    Eigen::LLT<Matrix> llt(S);
    if (llt.info() != Eigen::Success || !(llt.rcond() > min_rcond)) return std::nullopt;
    return Matrix(llt.matrixL());
  }
  std::optional<Matrix> L = cholesky_lower(S);
  if (!L) return std::nullopt;
  char uplo = 'L';
  int n = static_cast<int>(d), lda = n, info = 0;
  double norm1 = S.cwiseAbs().colwise().sum().maxCoeff(), rcond = 0;
  std::vector<double> work(static_cast<size_t>(3 * d));
  std::vector<int> iwork(static_cast<size_t>(d));
  blas::routines().dpocon(&uplo, &n, L->data(), &lda, &norm1, &rcond, work.data(), iwork.data(), &info);
  if (info != 0 || !(rcond > min_rcond)) return std::nullopt;
  return L;
}

// S^{-1} for a symmetric positive definite S, exactly symmetric, or nothing when S is not
// (numerically) positive definite. Through the Cholesky factor and LAPACK dpotri (L^{-1}, then
// L^{-T} L^{-1}), in one buffer: at the sizes where one-off evaluations matter this is cheaper than
// triangular solves with d right-hand sides.
inline std::optional<Matrix> positive_definite_inverse(const Matrix& S) {
  const Index d = S.rows();
  ++work_counters().choleskys;
  if (!blas::use(blas::Work::kProduct, d)) {
    Eigen::LLT<Matrix> llt(S);
    if (llt.info() != Eigen::Success) return std::nullopt;
    Matrix inverse = llt.solve(Matrix::Identity(d, d));
    return (0.5 * (inverse + inverse.transpose())).eval();
  }
  work_counters().gemm_calls += 2;
  Matrix inverse = S;
  if (!lapack_cholesky_in_place(inverse)) return std::nullopt;
  char uplo = 'L';
  int n = static_cast<int>(d), lda = n, info = 0;
  blas::routines().dpotri(&uplo, &n, inverse.data(), &lda, &info);
  if (info != 0) return std::nullopt;
  fill_upper_from_lower(inverse);
  return inverse;
}

// lower(C) += W W^T for a column-major d x k block W (k columns of length d at `W`).
inline void add_gram_lower(Matrix& C, const double* W, Index k) {
  if (k == 0) return;
  const Index d = C.rows();
  ++work_counters().gemm_calls;
  if (!blas::available()) {
    const Eigen::Map<const Matrix> block(W, d, k);
    C.selfadjointView<Eigen::Lower>().rankUpdate(block);
    return;
  }
  char uplo = 'L', trans = 'N';
  int n_ = static_cast<int>(d), k_ = static_cast<int>(k), lda = n_, ldc = n_;
  double one = 1;
  blas::routines().dsyrk(&uplo, &trans, &n_, &k_, &one, const_cast<double*>(W), &lda, &one, C.data(), &ldc);
}

// LAPACK dsyevd on the lower triangle of `A` (overwritten with the eigenvectors); ascending values.
// `work` and `iwork` are grown as LAPACK asks and kept for the next call.
inline bool lapack_symmetric_eigen(Matrix& A, Vector& values, std::vector<double>& work,
                                   std::vector<int>& iwork) {
  char jobz = 'V', uplo = 'L';
  int n = static_cast<int>(A.rows()), lda = n, info = 0, lwork = -1, liwork = -1, iwork_query = 0;
  double work_query = 0;
  values.resize(n);
  blas::routines().dsyevd(&jobz, &uplo, &n, A.data(), &lda, values.data(), &work_query, &lwork, &iwork_query,
                          &liwork, &info);
  if (info != 0) return false;
  work.resize(std::max(work.size(), static_cast<size_t>(std::max(1.0, work_query))));
  iwork.resize(std::max(iwork.size(), static_cast<size_t>(std::max(1, iwork_query))));
  lwork = static_cast<int>(work.size());
  liwork = static_cast<int>(iwork.size());
  blas::routines().dsyevd(&jobz, &uplo, &n, A.data(), &lda, values.data(), work.data(), &lwork, iwork.data(),
                          &liwork, &info);
  return info == 0;
}

// Singular values and right singular vectors of a square F (F = W diag(sigma) V^T).
inline void singular_value_decomposition(const Matrix& F, Vector& sigma, Matrix& V) {
  const Index d = F.rows();
  ++work_counters().svds;
  if (!blas::use(blas::Work::kSpectral, d)) {
    Eigen::BDCSVD<Matrix> svd(F, Eigen::ComputeFullV);
    if (svd.info() != Eigen::Success)
      throw std::runtime_error("singular value decomposition did not converge");
    sigma = svd.singularValues();
    V = svd.matrixV();
    return;
  }
  Matrix a = F, u(d, d), vt(d, d);
  sigma.resize(d);
  char jobz = 'S';
  int n = static_cast<int>(d), info = 0, lwork = -1;
  double work_query = 0;
  std::vector<int> iwork(static_cast<size_t>(8 * d));
  blas::routines().dgesdd(&jobz, &n, &n, a.data(), &n, sigma.data(), u.data(), &n, vt.data(), &n, &work_query,
                          &lwork, iwork.data(), &info);
  std::vector<double> work(static_cast<size_t>(std::max(1.0, work_query)));
  lwork = static_cast<int>(work.size());
  if (info == 0) {
    blas::routines().dgesdd(&jobz, &n, &n, a.data(), &n, sigma.data(), u.data(), &n, vt.data(), &n,
                            work.data(), &lwork, iwork.data(), &info);
  }
  if (info != 0) throw std::runtime_error("singular value decomposition (LAPACK dgesdd) did not converge");
  V = vt.transpose();
}

}  // namespace advmetric
