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

// A^{-1} # B through the Cholesky factor A = L L^T: A^{-1} # B = L^{-T} (L^T B L)^{1/2} L^{-1}.
inline Matrix gmml(const Matrix& A, const Matrix& B) {
  const Index d = A.rows();
  const double tiny = static_cast<double>(d) * std::numeric_limits<double>::epsilon();
  Eigen::LLT<Matrix> chol(A);
  if (chol.info() != Eigen::Success || !(chol.rcond() > tiny)) {
    throw std::domain_error(
        "the similar-pair scatter matrix A is singular (fewer similar pairs than features, or "
        "constant/duplicated features); use a ridge reg > 0");
  }
  const Matrix L = chol.matrixL();
  const Matrix C = symmetrized(to_basis(L, B));
  Eigensystem eig = eigensystem(C);
  if (!(eig.values.minCoeff() > tiny * eig.values.maxCoeff())) {
    throw std::domain_error(
        "the dissimilar-pair scatter matrix B is singular (fewer dissimilar pairs than features, or "
        "constant/duplicated features); use a ridge reg > 0");
  }
  const Matrix C_half = from_spectrum(eig.vectors, eig.values.cwiseSqrt());
  // X = L^{-T} C^{1/2}, then M = X L^{-1} = (L^{-T} X^T)^T.
  const Matrix X = L.transpose().triangularView<Eigen::Upper>().solve(C_half);
  const Matrix M_t = L.transpose().triangularView<Eigen::Upper>().solve(X.transpose());
  return symmetrized(M_t.transpose());
}

}  // namespace advmetric
