void llf_bench_empty(void) {}
