// GMML's closed form A^{-1} # B (the minimiser of tr(AM) + tr(B M^{-1})) and the ridge that makes
// rank-deficient scatter matrices usable.
#pragma once

#include <Eigen/Cholesky>
#include <limits>
#include <optional>
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
//
// M is formed as T T^T with T = L_A^{-T} V diag(sigma)^{1/2}. T also diagonalises both halves of
// GMML's objective at once, T^{-1} B T^{-T} = T^T A T = diag(sigma), which is what the LBFGS
// solver's coordinates need (solver.hpp, ScaledCoordinates): they come with the closed form.
struct GmmlSolution {
  Matrix M;
  Matrix T;
  Matrix L_A, L_B;  // A = L_A L_A^T, B = L_B L_B^T
  Matrix V;
  Vector sigma;
};

// How the closed form factors F = L_B^T L_A.
enum class GmmlFactorization {
  kSvd,  // F's SVD: accurate at any conditioning (the public gmml)
  // The eigendecomposition of F^T F when F's singular values span less than two orders of
  // magnitude, F's SVD otherwise: the solvers' start (solver.hpp). Squaring F then costs at most
  // about 1e4 eps of relative accuracy in sigma^2, and the start only has to be a good SPD point
  // with its coordinates (T T^T = M holds exactly either way); a symmetric eigensolver is
  // markedly cheaper than an SVD.
  kEigenWhenWellConditioned
};

// max_i / min_i of a positive diagonal; its square bounds the matrix's condition number from below.
inline double diagonal_spread(const Matrix& L) {
  const Vector diagonal = L.diagonal().cwiseAbs();
  return diagonal.maxCoeff() / diagonal.minCoeff();
}

inline GmmlSolution gmml_solution(const Matrix& A, const Matrix& B,
                                  GmmlFactorization how = GmmlFactorization::kSvd) {
  const Index d = A.rows();
  const double tiny = static_cast<double>(d) * std::numeric_limits<double>::epsilon();
  std::optional<Matrix> L_A = well_conditioned_cholesky(A, tiny);
  if (!L_A) {
    throw std::domain_error(
        "the similar-pair scatter matrix A is singular (fewer similar pairs than features, "
        "or constant/duplicated features); use a ridge reg > 0");
  }
  std::optional<Matrix> L_B = well_conditioned_cholesky(B, tiny);
  if (!L_B) {
    throw std::domain_error(
        "the dissimilar-pair scatter matrix B is singular (fewer dissimilar pairs than "
        "features, or constant/duplicated features); use a ridge reg > 0");
  }
  GmmlSolution g;
  Matrix F = *L_A;
  multiply_lower_in_place(*L_B, true, F);    // L_B^T L_A
  constexpr double kMinSquaredRatio = 1e-4;  // sigma_min^2 / sigma_max^2 for the eigen route
  bool factored = false;
  // cond(L_A) >= spread(L_A) (likewise for B): a cheap test that skips the eigen route where A or
  // B is badly conditioned and F most likely is too, so that such a problem (features of very
  // different scales, a small ridge) does not pay for an eigendecomposition the test below refuses.
  const double spread = diagonal_spread(*L_A) * diagonal_spread(*L_B);
  if (how == GmmlFactorization::kEigenWhenWellConditioned && spread * spread * kMinSquaredRatio < 1) {
    const Matrix F_transpose = F.transpose();
    Matrix K = Matrix::Zero(d, d);
    add_gram_lower(K, F_transpose.data(), d);  // F^T F = L_A^T B L_A
    fill_upper_from_lower(K);
    Eigensystem eig = eigensystem(K);
    // The computed spectrum is accurate to eps ||F||^2, so this test is reliable either way.
    if (eig.values.minCoeff() > kMinSquaredRatio * eig.values.maxCoeff()) {
      g.sigma = eig.values.cwiseSqrt();
      g.V = std::move(eig.vectors);
      factored = true;
    }
  }
  if (!factored) singular_value_decomposition(F, g.sigma, g.V);
  g.T = g.V * g.sigma.cwiseSqrt().asDiagonal();
  solve_lower_in_place(*L_A, true, g.T);
  g.M = Matrix::Zero(d, d);
  add_gram_lower(g.M, g.T.data(), d);
  fill_upper_from_lower(g.M);
  g.L_A = std::move(*L_A);
  g.L_B = std::move(*L_B);
  return g;
}

inline Matrix gmml(const Matrix& A, const Matrix& B) { return gmml_solution(A, B).M; }

}  // namespace advmetric
