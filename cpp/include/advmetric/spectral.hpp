// Spectral functions of symmetric matrices: eigensystems, f(M) = U f(Lambda) U^T, the SPD
// projection with an eigenvalue floor.
#pragma once

#include <Eigen/Eigenvalues>
#include <cmath>
#include <stdexcept>

#include "blas.hpp"
#include "common.hpp"

namespace advmetric {

struct Eigensystem {
  Vector values;   // ascending
  Matrix vectors;  // orthonormal columns
};

inline Matrix symmetrized(const Matrix& M) { return 0.5 * (M + M.transpose()); }

inline Eigensystem eigensystem(const Matrix& symmetric) {
  if (blas::available() && symmetric.rows() >= blas::kMinEigenDim) {
    Eigensystem eig{Vector(), symmetric};
    if (!lapack_symmetric_eigen(eig.vectors, eig.values)) {
      throw std::runtime_error("symmetric eigendecomposition (LAPACK dsyevd) did not converge");
    }
    return eig;
  }
  Eigen::SelfAdjointEigenSolver<Matrix> solver(symmetric);
  if (solver.info() != Eigen::Success) {
    throw std::runtime_error("symmetric eigendecomposition did not converge");
  }
  return {solver.eigenvalues(), solver.eigenvectors()};
}

// U diag(f) U^T, exactly symmetric.
inline Matrix from_spectrum(const Matrix& U, const Vector& f) {
  const Matrix scaled = U * f.asDiagonal();
  return symmetrized(multiply(scaled, false, U, true));
}

template <class Function>
Matrix spectral_function(const Eigensystem& eig, Function f) {
  return from_spectrum(eig.vectors, eig.values.unaryExpr(f));
}

// Eigenvalue floor used by the SPD projection: `eps` times the largest |eigenvalue|, or `eps`
// itself for the zero matrix, so the floor scales with M.
inline double eigenvalue_floor(const Vector& values, double eps) {
  const double scale = values.cwiseAbs().maxCoeff();
  return scale > 0 ? eps * scale : eps;
}

// Eq. 16 with a positive floor: P(M) = U max(Lambda, floor) U^T. A plain max(Lambda, 0) could
// return a singular M, where tr(B M^{-1}) is infinite.
inline Matrix project_spd(const Matrix& M, double eps) {
  Eigensystem eig = eigensystem(symmetrized(M));
  const double floor = eigenvalue_floor(eig.values, eps);
  return from_spectrum(eig.vectors, eig.values.cwiseMax(floor));
}

}  // namespace advmetric
