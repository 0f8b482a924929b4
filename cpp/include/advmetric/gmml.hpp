// GMML's closed form A^{-1} # B (the minimiser of tr(AM) + tr(B M^{-1})) and the ridge that makes
// rank-deficient scatter matrices usable.
#pragma once

#include <Eigen/Cholesky>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "spectral.hpp"

namespace advmetric {

// A + reg (tr A / d) I and B + reg (tr B / d) I. A matrix with zero trace borrows the other's scale.
inline std::pair<Matrix, Matrix> ridge(const Matrix& A, const Matrix& B, double reg) {
  if (reg == 0) return {A, B};
  const double d = static_cast<double>(A.rows());
  double scale_A = A.trace() / d, scale_B = B.trace() / d;
  if (scale_A <= 0) scale_A = scale_B;
  if (scale_B <= 0) scale_B = scale_A;
  if (!(scale_A > 0)) {
    throw std::domain_error("A and B are both zero (every pair difference is zero): nothing to learn");
  }
  Matrix A_r = A, B_r = B;
  A_r.diagonal().array() += reg * scale_A;
  B_r.diagonal().array() += reg * scale_B;
  return {A_r, B_r};
}

// A^{-1} # B from the Cholesky factors A = L_A L_A^T and B = L_B L_B^T. With M = L_A^{-T} Z L_A^{-1}
// the Riccati equation M A M = B becomes Z^2 = L_A^T B L_A = F^T F for F = L_B^T L_A, so Z is the
// positive polar factor of F: Z = V diag(sigma) V^T from the SVD F = W diag(sigma) V^T. Taking
// the SVD of F instead of the eigendecomposition of F^T F keeps the conditioning at cond(F)
// rather than cond(F)^2, which matters when features have very different scales.
inline Matrix gmml(const Matrix& A, const Matrix& B) {
  const Index d = A.rows();
  const double tiny = static_cast<double>(d) * std::numeric_limits<double>::epsilon();
  auto factor = [tiny](const Matrix& S, const char* message) {
    Eigen::LLT<Matrix> chol(S);
    if (chol.info() != Eigen::Success || !(chol.rcond() > tiny)) throw std::domain_error(message);
    return Matrix(chol.matrixL());
  };
  const Matrix L_A =
      factor(A,
             "the similar-pair scatter matrix A is singular (fewer similar pairs than features, "
             "or constant/duplicated features); use a ridge reg > 0");
  const Matrix L_B = factor(B,
                            "the dissimilar-pair scatter matrix B is singular (fewer dissimilar pairs than "
                            "features, or constant/duplicated features); use a ridge reg > 0");
  const Matrix F = L_B.transpose().triangularView<Eigen::Upper>() * L_A;
  Vector sigma;
  Matrix V;
  singular_value_decomposition(F, sigma, V);
  const Matrix Z = from_spectrum(V, sigma);
  // X = L_A^{-T} Z, then M = X L_A^{-1} = (L_A^{-T} X^T)^T.
  const auto L_A_t = L_A.transpose().triangularView<Eigen::Upper>();
  const Matrix X = L_A_t.solve(Z);
  const Matrix M_t = L_A_t.solve(X.transpose());
  return symmetrized(M_t.transpose());
}

}  // namespace advmetric
