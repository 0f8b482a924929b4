// The confusion stage: the closed-form adversarial pairs Pi* of Eq. 9.
//
// With W = M^{-y}, Eq. 9 gives pi + pi' = x + x' (the midpoint never moves) and
//   pi - pi' = beta (2 W + beta M)^{-1} M xh = U diag(beta l / (2 l^{-y} + beta l)) U^T xh,
// i.e. beta l^2 / (2 + beta l^2) along each eigenvector for a similar pair (pushed apart where M
// is large) and the scalar beta / (2 + beta) for a dissimilar pair (pulled together). One
// eigendecomposition of M serves all pairs.
#pragma once

#include <vector>

#include "spectral.hpp"
#include "statistics.hpp"

namespace advmetric {

// Writes Pi* as a C-ordered (n, 2, d) array to `out`.
template <class Pairs>
void adversarial_pairs(const Matrix& M, const Pairs& pairs, const std::int8_t* labels, double beta,
                       double* out, int n_threads) {
  const Eigensystem eig = eigensystem(M);
  if (!(eig.values.allFinite() && eig.values.minCoeff() > 0)) {
    throw std::domain_error("M must be symmetric positive definite");
  }
  // beta l^2 / (2 + beta l^2), written so that no intermediate overflows (l^2 does above 1e154).
  const Vector shrink = eig.values.unaryExpr([beta](double l) { return 1 / (1 + 2 / (beta * l * l)); });
  const Matrix T = from_spectrum(eig.vectors, shrink);  // symmetric: rows serve as columns
  const double dissimilar_factor = beta / (2 + beta);
  const Index n = pairs.size(), d = pairs.dim();
  const int threads = thread_count(n_threads, n, min_items_for(static_cast<double>(d) * d));
  const Index chunk = scatter_chunk_rows(d);

#pragma omp parallel num_threads(threads)
  {
    const auto [begin, end] = thread_range(n, this_thread(), team_size());
    RowMatrix diffs(chunk, d), moved(chunk, d);
    std::vector<Index> rows;
    rows.reserve(static_cast<size_t>(chunk));
    for (Index start = begin; start < end; start += chunk) {
      const Index stop = std::min(end, start + chunk);
      rows.clear();
      for (Index i = start; i < stop; ++i) {
        if (labels[i] > 0) {
          pair_difference(pairs, i, diffs.row(static_cast<Index>(rows.size())).data());
          rows.push_back(i);
        }
      }
      const Index m = static_cast<Index>(rows.size());
      rows_times_symmetric_into(moved, diffs, m, T);
      Index similar = 0;
      for (Index i = start; i < stop; ++i) {
        const double* a = pairs.first(i);
        const double* b = pairs.second(i);
        double* pi = out + 2 * d * i;
        double* pi_prime = pi + d;
        if (labels[i] > 0) {
          const double* delta = moved.row(similar++).data();
          for (Index k = 0; k < d; ++k) {
            pi[k] = 0.5 * (a[k] + b[k] + delta[k]);
            pi_prime[k] = 0.5 * (a[k] + b[k] - delta[k]);
          }
        } else {
          for (Index k = 0; k < d; ++k) {
            const double delta = dissimilar_factor * (a[k] - b[k]);
            pi[k] = 0.5 * (a[k] + b[k] + delta);
            pi_prime[k] = 0.5 * (a[k] + b[k] - delta);
          }
        }
      }
    }
  }
}

}  // namespace advmetric
