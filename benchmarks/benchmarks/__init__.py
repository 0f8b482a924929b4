"""asv benchmarks of advmetric (see the README's Performance section)."""
