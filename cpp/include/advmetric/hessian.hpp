// The Hessian of D(M), applied to a symmetric direction V, from M's eigendecomposition (the one
// the objective and gradient were computed from). docs/solver.md has the derivation.
//
// D(M) = tr(A f(M)) + tr(B g(M)) with f(l) = l + w h_+(l), g(l) = c / l, w = alpha beta^2 and
// c = 1 + w / (2 + beta)^2. In the eigenbasis (M = U diag(l) U^T, tilde X = U^T X U) the second
// derivative of tr(S f(M)) in direction V is
//
//   [H V]~_jk = sum_m f[l_j, l_m, l_k] (V~_jm S~_mk + S~_jm V~_mk),
//
// with f[., ., .] the second divided difference (Daleckii-Krein one order up). For g = c / l it is
// c / (l_j l_m l_k), so that part is two products. For h_+ the second divided difference follows
// from partial fractions over its poles +-i s, s = sqrt(2 / beta): with t = l / s and
// zeta(l) = 1 / (t - i),
//
//   h_+(l) = (s^3 / 4) [t - 2 Re zeta + Im zeta^2 / 2],
//   h_+[a, m, b] = (s^3 / 4) [-2 Re(zeta_a zeta_m zeta_b)
//                             + Im(zeta_a zeta_m zeta_b (zeta_a + zeta_m + zeta_b)) / 2],
//
// because the divided differences of 1 / (x - p) are products of 1 / (x_i - p). Every |zeta| <= 1
// and nothing is divided by an eigenvalue gap, so the formula is the same for distinct, repeated
// (M = I) and nearly equal eigenvalues. The sum over m then separates into d x d products with
// diagonal scalings: four for h_+ (real and imaginary parts of zeta and zeta^2) and one for g,
// done as one d x 5d product.
#pragma once

#include <cmath>
#include <complex>

#include "blas.hpp"
#include "counters.hpp"
#include "spectral.hpp"

namespace advmetric {

class HessianOperator {
 public:
  // At M = U diag(l) U^T with A~ = U^T A U and B~ = U^T B U (only their lower triangles are read).
  void prepare(const Vector& l, const Matrix& A_eig_lower, const Matrix& B_eig_lower, double alpha,
               double beta) {
    const Index d = l.size();
    d_ = d;
    l_ = l;
    const double s = std::sqrt(2 / beta);
    weight_plus_ = alpha * std::sqrt(8 * beta) / 4;  // w s^3 / 4 = alpha beta^2 (2 / beta)^{3/2} / 4
    weight_minus_ = 1 + alpha * beta * beta / ((2 + beta) * (2 + beta));
    zeta_.resize(d);
    for (Index j = 0; j < d; ++j) {
      const double t = l[j] / s;
      // 1 / (t - i) = (t + i) / (1 + t^2), written so that no square overflows for huge t.
      zeta_[j] = {1 / (t + 1 / t), 1 / (1 + t * t)};
    }
    // Right-hand blocks [diag(Re zeta) A~, diag(Im zeta) A~, diag(Re zeta^2) A~,
    // diag(Im zeta^2) A~, diag(1/l) B~]: each product V~ diag(x) S~ is then one block of V~ blocks.
    blocks_.resize(d, 5 * d);
    for (Index k = 0; k < d; ++k) {
      for (Index m = 0; m < d; ++m) {
        const double a = m >= k ? A_eig_lower(m, k) : A_eig_lower(k, m);
        const double b = m >= k ? B_eig_lower(m, k) : B_eig_lower(k, m);
        const std::complex<double> z = zeta_[m], z2 = z * z;
        blocks_(m, k) = z.real() * a;
        blocks_(m, d + k) = z.imag() * a;
        blocks_(m, 2 * d + k) = z2.real() * a;
        blocks_(m, 3 * d + k) = z2.imag() * a;
        blocks_(m, 4 * d + k) = b / l[m];
      }
    }
  }

  // out = [H V]~ for V~ = `V_eig` (symmetric), both in M's eigenbasis; `out` is symmetric.
  void apply_in_eigenbasis(const Matrix& V_eig, Matrix& out) {
    ++work_counters().hessian_vector_products;
    const Index d = d_;
    multiply_into(products_, V_eig, false, blocks_, false);  // V~ [blocks]: d x 5d
    out.resize(d, d);
    using Complex = std::complex<double>;
    auto entry = [&](Index block, Index j, Index k) { return products_(j, block * d + k); };
    for (Index k = 0; k < d; ++k) {
      for (Index j = k; j < d; ++j) {
        // S1 = V~ Z A~ + A~ Z V~ and S2 = V~ Z^2 A~ + A~ Z^2 V~ at (j, k); (V~ Z A~)^T = A~ Z V~.
        const Complex S1(entry(0, j, k) + entry(0, k, j), entry(1, j, k) + entry(1, k, j));
        const Complex S2(entry(2, j, k) + entry(2, k, j), entry(3, j, k) + entry(3, k, j));
        const Complex zz = zeta_[j] * zeta_[k];
        const double plus = -2 * (zz * S1).real() + 0.5 * (zz * ((zeta_[j] + zeta_[k]) * S1 + S2)).imag();
        const double minus = (entry(4, j, k) + entry(4, k, j)) / l_[j] / l_[k];
        out(j, k) = out(k, j) = weight_plus_ * plus + weight_minus_ * minus;
      }
    }
  }

 private:
  Index d_ = 0;
  Vector l_;
  Eigen::Matrix<std::complex<double>, Eigen::Dynamic, 1> zeta_;
  double weight_plus_ = 0, weight_minus_ = 1;
  Matrix blocks_, products_;
};

// H V at M for symmetric V (the whole product, for tests and the Python reference check).
inline Matrix hessian_vector(const Matrix& M, const Matrix& A, const Matrix& B, double alpha, double beta,
                             const Matrix& V) {
  const Eigensystem eig = eigensystem(M);
  if (!(eig.values.allFinite() && eig.values.minCoeff() > 0)) {
    throw std::domain_error("M must be positive definite");
  }
  const Matrix& U = eig.vectors;
  HessianOperator H;
  H.prepare(eig.values, to_basis(U, A), to_basis(U, B), alpha, beta);
  Matrix out;
  H.apply_in_eigenbasis(to_basis(U, symmetrized(V)), out);
  return symmetrized(from_basis(U, out));
}

}  // namespace advmetric
