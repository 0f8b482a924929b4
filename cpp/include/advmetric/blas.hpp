// Dense kernels: matrix products and the symmetric eigensolver, through the BLAS/LAPACK that
// SciPy ships when the Python layer hands us its routines, else through Eigen.
//
// Wheels cannot assume AVX2/FMA (no -march=native), so Eigen's own GEMM runs on SSE2 kernels and
// its eigensolver is ~3x slower than LAPACK's dsyevd at d >= 512. SciPy's OpenBLAS picks its
// kernels at run time. Its routines arrive as function pointers (SciPy's cython_blas /
// cython_lapack capsules), so nothing is linked at build time and Eigen remains the fallback.
#pragma once

#include <Eigen/Cholesky>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.hpp"

namespace advmetric {
namespace blas {

// Fortran calling convention as exported by scipy.linalg.cython_blas / cython_lapack.
using dgemm_fn = void(char*, char*, int*, int*, int*, double*, double*, int*, double*, int*, double*, double*,
                      int*);
using dsyrk_fn = void(char*, char*, int*, int*, double*, double*, int*, double*, double*, int*);
using dsyevd_fn = void(char*, char*, int*, double*, int*, double*, double*, int*, int*, int*, int*);
using dtrmm_fn = void(char*, char*, char*, char*, int*, int*, double*, double*, int*, double*, int*);
using dpotrf_fn = void(char*, int*, double*, int*, int*);

struct Routines {
  dgemm_fn* dgemm = nullptr;
  dsyrk_fn* dsyrk = nullptr;
  dsyevd_fn* dsyevd = nullptr;
  dtrmm_fn* dtrmm = nullptr;
  dpotrf_fn* dpotrf = nullptr;
  bool enabled = true;  // switch for tests and benchmarks that compare with the Eigen path
};

inline Routines& routines() {
  static Routines r;
  return r;
}

inline bool available() {
  const Routines& r = routines();
  return r.enabled && r.dgemm && r.dsyrk && r.dsyevd && r.dtrmm && r.dpotrf;
}

// Below these sizes Eigen's kernels are as fast or faster (call overhead, small-matrix paths).
constexpr Index kMinGemmDim = 24;
constexpr Index kMinEigenDim = 96;
constexpr Index kMinScatterDim = 128;  // below it, OpenMP threads with Eigen's rank update win

}  // namespace blas

// op(X) op(Y), op = transpose when the flag is set.
inline Matrix multiply(const Matrix& X, bool tx, const Matrix& Y, bool ty) {
  const Index m = tx ? X.cols() : X.rows(), k = tx ? X.rows() : X.cols();
  const Index n = ty ? Y.rows() : Y.cols();
  if (!blas::available() || std::min({m, n, k}) < blas::kMinGemmDim) {
    if (tx && ty) return X.transpose() * Y.transpose();
    if (tx) return X.transpose() * Y;
    if (ty) return X * Y.transpose();
    return X * Y;
  }
  Matrix C(m, n);
  char ta = tx ? 'T' : 'N', tb = ty ? 'T' : 'N';
  int m_ = static_cast<int>(m), n_ = static_cast<int>(n), k_ = static_cast<int>(k);
  int ldx = static_cast<int>(X.rows()), ldy = static_cast<int>(Y.rows()), ldc = m_;
  double one = 1, zero = 0;
  blas::routines().dgemm(&ta, &tb, &m_, &n_, &k_, &one, const_cast<double*>(X.data()), &ldx,
                         const_cast<double*>(Y.data()), &ldy, &zero, C.data(), &ldc);
  return C;
}

// U^T X U: X expressed in the basis of U's columns.
inline Matrix to_basis(const Matrix& U, const Matrix& X) {
  return multiply(U, true, multiply(X, false, U, false), false);
}

// U Y U^T: back from that basis.
inline Matrix from_basis(const Matrix& U, const Matrix& Y) {
  return multiply(multiply(U, false, Y, false), false, U, true);
}

// The lower Cholesky factor of a symmetric positive definite S, or nothing when S is not
// (numerically) positive definite.
inline std::optional<Matrix> cholesky_lower(const Matrix& S) {
  const Index d = S.rows();
  if (!blas::available() || d < blas::kMinGemmDim) {
    Eigen::LLT<Matrix> llt(S);
    if (llt.info() != Eigen::Success) return std::nullopt;
    return Matrix(llt.matrixL());
  }
  Matrix L = S;
  char uplo = 'L';
  int n = static_cast<int>(d), lda = n, info = 0;
  blas::routines().dpotrf(&uplo, &n, L.data(), &lda, &info);
  if (info != 0) return std::nullopt;
  L.triangularView<Eigen::StrictlyUpper>().setZero();
  return L;
}

// U^T S U for S = L L^T: the Gram matrix of W = L^T U (a triangular product and a rank-k update,
// half the flops of two general products, and positive semidefinite by construction).
inline Matrix to_basis_factored(const Matrix& L, const Matrix& U) {
  const Index d = U.rows();
  Matrix W = U;
  Matrix out = Matrix::Zero(d, d);
  if (!blas::available() || d < blas::kMinGemmDim) {
    W = L.transpose().triangularView<Eigen::Upper>() * U;
    out.selfadjointView<Eigen::Lower>().rankUpdate(W.transpose());
  } else {
    char side = 'L', uplo = 'L', trans = 'T', diag = 'N', syrk_trans = 'T';
    int n = static_cast<int>(d), ld = n;
    double one = 1, zero = 0;
    blas::routines().dtrmm(&side, &uplo, &trans, &diag, &n, &n, &one, const_cast<double*>(L.data()), &ld,
                           W.data(), &ld);
    blas::routines().dsyrk(&uplo, &syrk_trans, &n, &n, &one, W.data(), &ld, &zero, out.data(), &ld);
  }
  return out.selfadjointView<Eigen::Lower>();
}

// lower(C) += W W^T for a column-major d x k block W (k columns of length d at `W`).
inline void add_gram_lower(Matrix& C, const double* W, Index k) {
  if (k == 0) return;
  const Index d = C.rows();
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
inline bool lapack_symmetric_eigen(Matrix& A, Vector& values) {
  char jobz = 'V', uplo = 'L';
  int n = static_cast<int>(A.rows()), lda = n, info = 0, lwork = -1, liwork = -1, iwork_query = 0;
  double work_query = 0;
  values.resize(n);
  blas::routines().dsyevd(&jobz, &uplo, &n, A.data(), &lda, values.data(), &work_query, &lwork, &iwork_query,
                          &liwork, &info);
  if (info != 0) return false;
  lwork = static_cast<int>(work_query);
  liwork = iwork_query;
  std::vector<double> work(static_cast<size_t>(std::max(lwork, 1)));
  std::vector<int> iwork(static_cast<size_t>(std::max(liwork, 1)));
  blas::routines().dsyevd(&jobz, &uplo, &n, A.data(), &lda, values.data(), work.data(), &lwork, iwork.data(),
                          &liwork, &info);
  return info == 0;
}

}  // namespace advmetric
