// Pair scatter statistics: A = sum_{y=+1} xh xh^T and B = sum_{y=-1} xh xh^T, xh = x - x'.
//
// Everything AML needs from the data is in these two d x d matrices, so this one pass over the
// pairs is the only O(N d^2) step. Differences are formed in small per-thread chunks and folded in
// with a symmetric rank-k update, so no (N, d) difference array is ever materialised.
#pragma once

#include <vector>

#include "blas.hpp"
#include "common.hpp"

namespace advmetric {

// Pairs stored as a C-ordered (n, 2, d) array.
struct PairArray {
  const double* data;
  Index n, d;
  Index size() const { return n; }
  Index dim() const { return d; }
  const double* first(Index i) const { return data + 2 * d * i; }
  const double* second(Index i) const { return data + 2 * d * i + d; }
};

// Pairs given as rows of a C-ordered (n_rows, d) array X and a C-ordered (n, 2) index array.
struct IndexedPairs {
  const double* X;
  Index n_rows, d;
  const std::int64_t* index;
  Index n;
  Index size() const { return n; }
  Index dim() const { return d; }
  const double* first(Index i) const { return X + d * index[2 * i]; }
  const double* second(Index i) const { return X + d * index[2 * i + 1]; }
};

template <class Pairs>
inline void pair_difference(const Pairs& pairs, Index i, double* out) {
  const double* a = pairs.first(i);
  const double* b = pairs.second(i);
  for (Index k = 0; k < pairs.dim(); ++k) out[k] = a[k] - b[k];
}

struct Scatter {
  Matrix A, B;
  Index n_similar = 0, n_dissimilar = 0;
};

// Rows of differences buffered per label and folded into the lower triangle of `acc`.
class ScatterAccumulator {
 public:
  ScatterAccumulator(Index d, Index chunk) : buffer_(chunk, d), acc_(Matrix::Zero(d, d)) {}

  double* next_row() {
    if (fill_ == buffer_.rows()) flush();
    ++count_;
    return buffer_.row(fill_++).data();
  }
  void flush() {
    if (fill_ == 0) return;
    acc_.selfadjointView<Eigen::Lower>().rankUpdate(buffer_.topRows(fill_).transpose());
    fill_ = 0;
  }
  const Matrix& lower() const { return acc_; }
  Index count() const { return count_; }

 private:
  RowMatrix buffer_;
  Matrix acc_;
  Index fill_ = 0, count_ = 0;
};

// Rows per chunk: about 1 MiB of differences, at least 32 and at most 1024 rows.
inline Index scatter_chunk_rows(Index d) {
  return std::clamp<Index>((Index(1) << 17) / std::max<Index>(d, 1), 32, 1024);
}

// Eigen path. Deterministic for a fixed thread count: each thread owns a fixed contiguous range of
// pairs and the per-thread partial sums are added in thread order.
template <class Pairs>
Scatter scatter_matrices_eigen(const Pairs& pairs, const std::int8_t* labels, int n_threads) {
  const Index n = pairs.size(), d = pairs.dim();
  const int threads = thread_count(n_threads, n, min_items_for(0.5 * d * d));
  const Index chunk = scatter_chunk_rows(d);
  std::vector<Matrix> partial_A(threads), partial_B(threads);
  std::vector<Index> count_A(threads, 0), count_B(threads, 0);

#pragma omp parallel num_threads(threads)
  {
    const int t = this_thread();
    const auto [begin, end] = thread_range(n, t, team_size());
    ScatterAccumulator similar(d, chunk), dissimilar(d, chunk);
    for (Index i = begin; i < end; ++i) {
      ScatterAccumulator& acc = labels[i] > 0 ? similar : dissimilar;
      pair_difference(pairs, i, acc.next_row());
    }
    similar.flush();
    dissimilar.flush();
    partial_A[t] = similar.lower();
    partial_B[t] = dissimilar.lower();
    count_A[t] = similar.count();
    count_B[t] = dissimilar.count();
  }

  Scatter out{Matrix::Zero(d, d), Matrix::Zero(d, d)};
  for (int t = 0; t < threads; ++t) {
    if (partial_A[t].size() == 0) continue;  // the team was smaller than requested
    out.A += partial_A[t];
    out.B += partial_B[t];
    out.n_similar += count_A[t];
    out.n_dissimilar += count_B[t];
  }
  out.A = out.A.selfadjointView<Eigen::Lower>();
  out.B = out.B.selfadjointView<Eigen::Lower>();
  return out;
}

// Largest d for which each thread of the BLAS statistics path keeps private partial sums.
constexpr Index kMaxPrivateScatterDim = 2048;

// BLAS path, for large d where dsyrk's run-time-selected kernels beat Eigen's portable rank update.
// Up to kMaxPrivateScatterDim, each OpenMP thread takes every team-th block of pairs (up to
// ~8 MiB of differences per label), gathers its differences and folds them into its own partial
// sums with dsyrk. The caller must keep BLAS on one thread for this pass: a one-thread dsyrk runs
// on the calling thread, so the two levels never oversubscribe the cores, and gather and update
// run in parallel instead of a serial gather leaving BLAS's threads idle. Threads are capped so that their
// private memory stays within 512 MiB; all of it is allocated before the parallel region, where an exception
// could not propagate. Above kMaxPrivateScatterDim (or with one thread) the differences are gathered on the
// calling thread and BLAS threads the update. Deterministic for a fixed thread count: fixed block
// ownership, partial sums added in thread order.
template <class Pairs>
Scatter scatter_matrices_blas(const Pairs& pairs, const std::int8_t* labels, int n_threads) {
  const Index n = pairs.size(), d = pairs.dim();
  const Index block = std::clamp<Index>((Index(1) << 20) / std::max<Index>(d, 1), 64, 65536);
  const Index rows = std::min(n, block), n_blocks = (n + block - 1) / block;
  const double bytes_per_thread = 8.0 * (2.0 * d * d + 2.0 * d * rows);
  const Index by_memory = std::max<Index>(1, static_cast<Index>(512.0 * (1 << 20) / bytes_per_thread));
  const int threads = d <= kMaxPrivateScatterDim ? thread_count(n_threads, std::min(n_blocks, by_memory)) : 1;

  std::vector<Scatter> partial(threads);
  std::vector<std::vector<double>> similar(threads), dissimilar(threads);
  for (int t = 0; t < threads; ++t) {
    partial[t].A = Matrix::Zero(d, d);
    partial[t].B = Matrix::Zero(d, d);
    similar[t].resize(static_cast<size_t>(d * rows));
    dissimilar[t].resize(static_cast<size_t>(d * rows));
  }

#pragma omp parallel num_threads(threads)
  {
    const int t = this_thread(), team = team_size();
    Scatter& own = partial[t];
    double* sim = similar[t].data();
    double* dis = dissimilar[t].data();
    for (Index b = t; b < n_blocks; b += team) {
      const Index start = b * block, stop = std::min(n, start + block);
      Index n_sim = 0, n_dis = 0;
      for (Index i = start; i < stop; ++i) {
        if (labels[i] > 0) {
          pair_difference(pairs, i, sim + d * n_sim++);
        } else {
          pair_difference(pairs, i, dis + d * n_dis++);
        }
      }
      add_gram_lower(own.A, sim, n_sim);
      add_gram_lower(own.B, dis, n_dis);
      own.n_similar += n_sim;
      own.n_dissimilar += n_dis;
    }
  }

  Scatter out{Matrix::Zero(d, d), Matrix::Zero(d, d)};
  for (const Scatter& p : partial) {
    out.A += p.A;
    out.B += p.B;
    out.n_similar += p.n_similar;
    out.n_dissimilar += p.n_dissimilar;
  }
  out.A = out.A.selfadjointView<Eigen::Lower>();
  out.B = out.B.selfadjointView<Eigen::Lower>();
  return out;
}

template <class Pairs>
Scatter scatter_matrices(const Pairs& pairs, const std::int8_t* labels, int n_threads) {
  if (blas::use(blas::Work::kScatterPass, pairs.dim()))
    return scatter_matrices_blas(pairs, labels, n_threads);
  return scatter_matrices_eigen(pairs, labels, n_threads);
}

}  // namespace advmetric
