// Spectral functions of symmetric matrices: eigensystems, f(M) = U f(Lambda) U^T, the SPD
// projection with an eigenvalue floor.
#pragma once

#include <Eigen/Eigenvalues>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "blas.hpp"
#include "common.hpp"

namespace advmetric {

struct Eigensystem {
  Vector values;   // ascending as computed (Evaluator::set_eigenvalues may reorder them)
  Matrix vectors;  // orthonormal columns
};

inline Matrix symmetrized(const Matrix& M) { return 0.5 * (M + M.transpose()); }

// Symmetric eigensolver that keeps its buffers between calls (the solver calls it every iteration).
class SymmetricEigensolver {
 public:
  const Eigensystem& compute(const Matrix& symmetric) {
    ++work_counters().eigendecompositions;
    if (blas::use(blas::Work::kSpectral, symmetric.rows())) {
      eig_.vectors = symmetric;
      if (!lapack_symmetric_eigen(eig_.vectors, eig_.values, work_, iwork_)) {
        throw std::runtime_error("symmetric eigendecomposition (LAPACK dsyevd) did not converge");
      }
      return eig_;
    }
    solver_.compute(symmetric);
    if (solver_.info() != Eigen::Success) {
      throw std::runtime_error("symmetric eigendecomposition did not converge");
    }
    eig_.values = solver_.eigenvalues();
    eig_.vectors = solver_.eigenvectors();
    return eig_;
  }

  // The last result, for a caller that changes it in place (Evaluator::set_eigenvalues).
  Eigensystem& result() { return eig_; }

 private:
  Eigensystem eig_;
  Eigen::SelfAdjointEigenSolver<Matrix> solver_;
  std::vector<double> work_;
  std::vector<int> iwork_;
};

inline Eigensystem eigensystem(const Matrix& symmetric) {
  SymmetricEigensolver solver;
  return solver.compute(symmetric);
}

// M <- (M + M^T) / 2 without a temporary.
inline void symmetrize(Matrix& M) {
  for (Index k = 1; k < M.cols(); ++k) {
    for (Index j = 0; j < k; ++j) M(j, k) = M(k, j) = 0.5 * (M(j, k) + M(k, j));
  }
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
