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
#include <vector>

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
    const double s = std::sqrt(2 / beta);
    // w s^3 / 4 = alpha beta^2 (2 / beta)^{3/2} / 4, without forming s^3 (it overflows for tiny beta)
    const double weight_plus = alpha * std::sqrt(8 * beta) / 4;
    const double weight_minus = 1 + alpha * beta * beta / ((2 + beta) * (2 + beta));
    using Complex = std::complex<double>;
    std::vector<Complex> zeta(static_cast<size_t>(d));
    // Diagonal scalings of the right-hand blocks [diag(Re zeta) A~, diag(Im zeta) A~,
    // diag(Re zeta^2) A~, diag(Im zeta^2) A~, diag(1/l) B~]: each product V~ diag(x) S~ is then one
    // block of V~ [blocks].
    Matrix scale(d, 5);
    for (Index j = 0; j < d; ++j) {
      const double t = l[j] / s;
      // 1 / (t - i) = (t + i) / (1 + t^2), written so that no square overflows for huge t.
      const double re = 1 / (t + 1 / t), im = 1 / (1 + t * t);
      zeta[j] = {re, im};
      scale.row(j) << re, im, re * re - im * im, 2 * re * im, 1 / l[j];
    }
    full_ = A_eig_lower;
    fill_upper_from_lower(full_);
    blocks_.resize(d, 5 * d);
    for (int b = 0; b < 4; ++b) blocks_.middleCols(b * d, d) = scale.col(b).asDiagonal() * full_;
    full_ = B_eig_lower;
    fill_upper_from_lower(full_);
    blocks_.middleCols(4 * d, d) = scale.col(4).asDiagonal() * full_;
    // With S1 = P1 + P1^T, P1 = V~ Z A~, and S2 likewise with Z^2, the (j, k) entry of the
    // product is a linear combination of Re S1, Im S1, Re S2, Im S2 and (Y + Y^T), Y = V~ L^{-1} B~,
    // with coefficients that depend on (j, k) only and are symmetric in them:
    //   h_+ part: -2 Re(zz S1) + Im(zz (zeta_j + zeta_k) S1) / 2 + Im(zz S2) / 2, zz = zeta_j zeta_k.
    // So the product is Q + Q^T with Q = sum_b coefficient_b o P_b: no transposed reads per entry.
    for (auto& c : coefficients_) c.resize(d, d);
    for (Index k = 0; k < d; ++k) {
      for (Index j = 0; j < d; ++j) {
        const Complex zz = zeta[j] * zeta[k], zzs = zz * (zeta[j] + zeta[k]);
        coefficients_[0](j, k) = weight_plus * (-2 * zz.real() + 0.5 * zzs.imag());
        coefficients_[1](j, k) = weight_plus * (2 * zz.imag() + 0.5 * zzs.real());
        coefficients_[2](j, k) = weight_plus * 0.5 * zz.imag();
        coefficients_[3](j, k) = weight_plus * 0.5 * zz.real();
        coefficients_[4](j, k) = weight_minus / l[j] / l[k];
      }
    }
  }

  // Q with [H V]~ = Q + Q^T for V~ = `V_eig` (symmetric), in M's eigenbasis.
  void half_in_eigenbasis(const Matrix& V_eig, Matrix& Q) {
    ++work_counters().hessian_vector_products;
    const Index d = d_;
    multiply_into(products_, V_eig, false, blocks_, false);  // V~ [blocks]: d x 5d
    Q = coefficients_[0].cwiseProduct(products_.middleCols(0, d));
    for (int b = 1; b < 5; ++b) Q += coefficients_[b].cwiseProduct(products_.middleCols(b * d, d));
  }

  // out = [H V]~ for V~ = `V_eig` (symmetric), both in M's eigenbasis; `out` is symmetric.
  void apply_in_eigenbasis(const Matrix& V_eig, Matrix& out) {
    half_in_eigenbasis(V_eig, half_);
    out = half_ + half_.transpose();
  }

 private:
  Index d_ = 0;
  Matrix coefficients_[5];
  Matrix full_, blocks_, products_, half_;
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
