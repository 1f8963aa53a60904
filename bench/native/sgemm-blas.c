/*
 * OpenBLAS reference for the dense step (bench/dense-step.ts builds and runs it):
 * times cblas_sgemm, single-threaded, at each shape given on the command line.
 *   sgemm-blas REPS M,K,N,TA,TB [M,K,N,TA,TB ...]
 * C[M,N] = op(A)·op(B) over K, op = transpose when TA / TB is 1 (the backward GEMMs).
 * Prints one JSON line per shape: {"M":..,"K":..,"N":..,"ta":..,"tb":..,"ms":best}.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: sgemm-blas REPS M,K,N,TA,TB ...\n");
    return 2;
  }
  openblas_set_num_threads(1);
  int reps = atoi(argv[1]);
  for (int s = 2; s < argc; s++) {
    int M, K, N, ta, tb;
    if (sscanf(argv[s], "%d,%d,%d,%d,%d", &M, &K, &N, &ta, &tb) != 5 || M <= 0 || K <= 0 || N <= 0) {
      fprintf(stderr, "bad shape %s\n", argv[s]);
      return 2;
    }
    float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * K * N), *c = malloc(sizeof(float) * M * N);
    if (!a || !b || !c) return 3;
    unsigned r = 12345;
    for (int i = 0; i < M * K; i++) { r = r * 1664525u + 1013904223u; a[i] = (r >> 8) * (1.0f / 16777216.0f) - 0.5f; }
    for (int i = 0; i < K * N; i++) { r = r * 1664525u + 1013904223u; b[i] = (r >> 8) * (1.0f / 16777216.0f) - 0.5f; }
    double best = 1e30;
    for (int k = 0; k < reps; k++) {
      double t0 = now_ms();
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f,
                  a, ta ? M : K, b, tb ? K : N, 0.0f, c, N);
      double ms = now_ms() - t0;
      if (ms < best) best = ms;
    }
    printf("{\"M\":%d,\"K\":%d,\"N\":%d,\"ta\":%d,\"tb\":%d,\"ms\":%.5f,\"sink\":%g}\n", M, K, N, ta, tb, best, (double)c[0]);
    free(a); free(b); free(c);
  }
  return 0;
}
