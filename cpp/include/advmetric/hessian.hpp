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
// done as one d x 5d product (d x 6d with the Newton curve's term, see HessianOperator::prepare).
#pragma once

#include <cmath>
#include <vector>

#include "blas.hpp"
#include "counters.hpp"
#include "objective.hpp"
#include "spectral.hpp"

namespace advmetric {

class HessianOperator {
 public:
  // At M = U diag(l) U^T with A~ = U^T A U and B~ = U^T B U (only their lower triangles are read).
  // With `curve_gradient` = G~ (the gradient in the eigenbasis, symmetric, both triangles), the
  // product also carries the term sym(G~ V~ L^{-1}) of the affine-invariant curve (newton.hpp) as a
  // sixth block of the same product, so that it costs no separate call.
  void prepare(const Vector& l, const Matrix& A_eig_lower, const Matrix& B_eig_lower, double alpha,
               double beta, const Matrix* curve_gradient = nullptr) {
    const Index d = l.size();
    d_ = d;
    curve_ = curve_gradient != nullptr;
    const double s = std::sqrt(2 / beta);
    // w s^3 / 4 = alpha beta^2 (2 / beta)^{3/2} / 4, without forming s^3 (it overflows for tiny beta)
    weight_plus_ = alpha * std::sqrt(8 * beta) / 4;
    weight_minus_ = 1 + AdversarialSpectrum{alpha, beta}.minus_weight();
    // Diagonal scalings of the right-hand blocks [diag(Re zeta) A~, diag(Im zeta) A~,
    // diag(Re zeta^2) A~, diag(Im zeta^2) A~, diag(1/l) B~ (, G~)]: each product V~ diag(x) S~ is
    // then one block of V~ [blocks].
    re_.resize(d);
    im_.resize(d);
    inverse_.resize(d);
    Matrix scale(d, 5);
    for (Index j = 0; j < d; ++j) {
      const double t = l[j] / s;
      // 1 / (t - i) = (t + i) / (1 + t^2), written so that no square overflows for huge t.
      const double re = 1 / (t + 1 / t), im = 1 / (1 + t * t);
      re_[j] = re;
      im_[j] = im;
      inverse_[j] = 1 / l[j];
      scale.row(j) << re, im, re * re - im * im, 2 * re * im, inverse_[j];
    }
    full_ = A_eig_lower;
    fill_upper_from_lower(full_);
    blocks_.resize(d, (curve_ ? 6 : 5) * d);
    for (int b = 0; b < 4; ++b) blocks_.middleCols(b * d, d) = scale.col(b).asDiagonal() * full_;
    full_ = B_eig_lower;
    fill_upper_from_lower(full_);
    blocks_.middleCols(4 * d, d) = scale.col(4).asDiagonal() * full_;
    if (curve_) blocks_.middleCols(5 * d, d) = *curve_gradient;
  }

  // Q with [H V]~ = Q + Q^T for V~ = `V_eig` (symmetric), in M's eigenbasis.
  //
  // With P_b the blocks of V~ [blocks], S1 = P1 + P1^T for P1 = V~ Z A~ and S2 likewise with Z^2,
  // the (j, k) entry of the product is a combination of Re S1, Im S1, Re S2, Im S2 and Y + Y^T,
  // Y = V~ L^{-1} B~, whose coefficients depend on (j, k) only and are symmetric in them:
  //   h_+ part: -2 Re(zz S1) + Im(zz (zeta_j + zeta_k) S1) / 2 + Im(zz S2) / 2, zz = zeta_j zeta_k.
  // So the product is Q + Q^T with Q = sum_b coefficient_b o P_b: no transposed reads per entry.
  // The coefficients are formed here from zeta_j and zeta_k in real arithmetic rather than stored:
  // one read of each P_b per entry and no d x d coefficient matrices to keep or to make.
  // The curve's term: sym(G~ V~ L^{-1}) = Q' + Q'^T with Q'^T = L^{-1} V~ G~ / 2 (V~, G~ symmetric),
  // and V~ G~ is the sixth block.
  void half_in_eigenbasis(const Matrix& V_eig, Matrix& Q) {
    ++work_counters().hessian_vector_products;
    const Index d = d_;
    multiply_into(products_, V_eig, false, blocks_, false);  // V~ [blocks]: d x 5d (or 6d)
    Q.resize(d, d);
    const double* re = re_.data();
    const double* im = im_.data();
    const double* inv = inverse_.data();
    const double wp = weight_plus_, wm = weight_minus_;
    for (Index k = 0; k < d; ++k) {
      const double* p0 = products_.col(k).data();
      const double* p1 = products_.col(d + k).data();
      const double* p2 = products_.col(2 * d + k).data();
      const double* p3 = products_.col(3 * d + k).data();
      const double* p4 = products_.col(4 * d + k).data();
      double* q = Q.col(k).data();
      const double rk = re[k], ik = im[k], wik = wm * inv[k];
      for (Index j = 0; j < d; ++j) {
        // zz = zeta_j zeta_k and zzs = zz (zeta_j + zeta_k), real and imaginary parts
        const double zr = re[j] * rk - im[j] * ik, zi = re[j] * ik + im[j] * rk;
        const double sr = re[j] + rk, si = im[j] + ik;
        const double zsr = zr * sr - zi * si, zsi = zr * si + zi * sr;
        q[j] = wp * ((-2 * zr + 0.5 * zsi) * p0[j] + (2 * zi + 0.5 * zsr) * p1[j] + 0.5 * zi * p2[j] +
                     0.5 * zr * p3[j]) +
               wik * inv[j] * p4[j];
      }
      if (curve_) {
        const double* p5 = products_.col(5 * d + k).data();
        for (Index j = 0; j < d; ++j) q[j] += 0.5 * inv[j] * p5[j];
      }
    }
  }

  // out = [H V]~ for V~ = `V_eig` (symmetric), both in M's eigenbasis; `out` is symmetric.
  void apply_in_eigenbasis(const Matrix& V_eig, Matrix& out) {
    half_in_eigenbasis(V_eig, half_);
    out = half_ + half_.transpose();
  }

 private:
  Index d_ = 0;
  bool curve_ = false;
  double weight_plus_ = 0, weight_minus_ = 0;
  Vector re_, im_, inverse_;
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
