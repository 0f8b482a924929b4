// Work counters: how many factorizations and BLAS-class products a solve costs, so that the
// benchmark can say where the time to solution goes (time alone cannot). Each thread counts on
// its own; `solve` resets its thread's counters at the start and reports them at the end.
#pragma once

namespace advmetric {

struct WorkCounters {
  long long eigendecompositions = 0;  // symmetric eigensolver calls (LAPACK dsyevd or Eigen)
  long long svds = 0;                 // singular value decompositions (GMML's closed form)
  long long choleskys = 0;            // Cholesky factorisations
  long long gemm_calls = 0;           // O(d^3) BLAS-class products: dgemm, dsyrk, dsyr2k, dtrmm, dtrsm
  long long objective_evaluations = 0;
  long long gradient_evaluations = 0;
  long long hessian_vector_products = 0;
  long long iterations = 0;
};

inline WorkCounters& work_counters() {
  static thread_local WorkCounters counters;
  return counters;
}

}  // namespace advmetric
