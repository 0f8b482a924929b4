// Shared types and the thread-count policy of the advmetric kernels.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace advmetric {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;
using Index = Eigen::Index;
// numpy arrays are C-ordered; kernels read them through row-major maps.
using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

inline bool has_openmp() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

// Threads to use for `n_items` independent items: the request (<= 0 means the OpenMP default),
// never more than one thread per `min_items_per_thread` items so that small inputs stay serial.
inline int thread_count(int requested, Index n_items, Index min_items_per_thread = 1) {
#ifdef _OPENMP
  int threads = requested > 0 ? requested : omp_get_max_threads();
#else
  (void)requested;
  int threads = 1;
#endif
  const Index useful = std::max<Index>(1, n_items / std::max<Index>(1, min_items_per_thread));
  return static_cast<int>(std::max<Index>(1, std::min<Index>(threads, useful)));
}

// Members of the current OpenMP team. It can be smaller than the number requested (OMP_DYNAMIC,
// OMP_THREAD_LIMIT, a call from inside another parallel region), so work is split by it.
inline int team_size() {
#ifdef _OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

inline int this_thread() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

// Items per thread so that each thread gets at least ~2^18 multiply-adds when one item costs
// `cost` of them: below that, waking a thread team costs more than it saves (and idle OpenMP
// workers spin-waiting steal the core from the BLAS threads that run next).
inline Index min_items_for(double cost) {
  return std::max<Index>(1, static_cast<Index>(std::ceil(262144.0 / std::max(cost, 1.0))));
}

// Item range [begin, end) of thread `t` out of `threads` for a static, deterministic split.
inline std::pair<Index, Index> thread_range(Index n, int t, int threads) {
  const Index base = n / threads, extra = n % threads;
  const Index begin = t * base + std::min<Index>(t, extra);
  return {begin, begin + base + (t < extra ? 1 : 0)};
}

}  // namespace advmetric
