/* The machine's roofline for benchmarks/op_gap.py: peak fp32 FMA throughput and triad bandwidth,
 * for 1..T threads. Built on the fly by op_gap.py with the system compiler and -march=native, so
 * the FMA loop uses the widest vectors this CPU has (AVX-512, else AVX2+FMA, else scalar).
 *
 *   roofline THREADS        prints one JSON object on stdout
 *
 * Peak: every thread runs 16 independent FMA chains (enough to cover FMA latency × ports on
 * current x86 cores) on registers only; best of several timed repetitions. Bandwidth: the STREAM
 * triad a[i] = b[i] + s * c[i] split across the threads, counted as 12 bytes per element (two
 * reads, one write; the write-allocate read is not counted, as STREAM does), best of several
 * repetitions, at three sizes: one that fits in a core's L2 (3 × 128 KiB per thread), one of
 * 3 × 4 MiB per thread (beyond L2, within any current last-level cache) and one of 3 × 128 MiB
 * (main memory on most machines). */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- peak FMA ---- */

#if defined(__AVX512F__)
#define LANES 16
typedef __m512 vec;
#define VSET1 _mm512_set1_ps
#define VFMA _mm512_fmadd_ps
#define VADD _mm512_add_ps
#define VSUM _mm512_reduce_add_ps
#define ISA "avx512f"
#elif defined(__FMA__)
#define LANES 8
typedef __m256 vec;
#define VSET1 _mm256_set1_ps
#define VFMA _mm256_fmadd_ps
#define VADD _mm256_add_ps
static float vsum8(__m256 v) {
  float t[8];
  _mm256_storeu_ps(t, v);
  return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#define VSUM vsum8
#define ISA "avx2+fma"
#else
#define LANES 1
typedef float vec;
#define VSET1(x) (x)
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VADD(a, b) ((a) + (b))
#define VSUM(x) (x)
#define ISA "scalar"
#endif

#define CHAINS 16
static const long kFmaIters = 20000000L; /* per thread: 20 M × 16 chains × LANES FMAs */

typedef struct {
  long iters;
  float sink;
} FmaJob;

static void* fma_worker(void* arg) {
  FmaJob* job = (FmaJob*)arg;
  vec acc[CHAINS];
  for (int i = 0; i < CHAINS; ++i) acc[i] = VSET1(0.001f * (float)i);
  const vec m = VSET1(0.999999f), a = VSET1(1e-7f);
  for (long it = 0; it < job->iters; ++it) {
    for (int i = 0; i < CHAINS; ++i) acc[i] = VFMA(acc[i], m, a);
  }
  vec s = acc[0];
  for (int i = 1; i < CHAINS; ++i) s = VADD(s, acc[i]);
  job->sink = VSUM(s);
  return NULL;
}

static double peak_gflops(int threads) {
  pthread_t tid[64];
  FmaJob jobs[64];
  double best = 0.0;
  for (int rep = 0; rep < 5; ++rep) {
    double t0 = now_s();
    for (int t = 0; t < threads; ++t) {
      jobs[t].iters = kFmaIters;
      pthread_create(&tid[t], NULL, fma_worker, &jobs[t]);
    }
    for (int t = 0; t < threads; ++t) pthread_join(tid[t], NULL);
    double dt = now_s() - t0;
    double flops = 2.0 * (double)kFmaIters * CHAINS * LANES * threads;
    if (flops / dt / 1e9 > best) best = flops / dt / 1e9;
  }
  return best;
}

/* ---- triad bandwidth ---- */

typedef struct {
  float *a, *b, *c;
  size_t begin, end;
  int reps;
} TriadJob;

static void* triad_worker(void* arg) {
  TriadJob* job = (TriadJob*)arg;
  for (int r = 0; r < job->reps; ++r) {
    for (size_t i = job->begin; i < job->end; ++i) job->a[i] = job->b[i] + 3.0f * job->c[i];
    __asm__ volatile("" ::: "memory"); /* keep every repetition */
  }
  return NULL;
}

static double triad_gbs(size_t n, int threads, int inner_reps) {
  float* a = aligned_alloc(64, n * sizeof(float));
  float* b = aligned_alloc(64, n * sizeof(float));
  float* c = aligned_alloc(64, n * sizeof(float));
  for (size_t i = 0; i < n; ++i) a[i] = 0.0f, b[i] = 1.0f, c[i] = 2.0f;
  pthread_t tid[64];
  TriadJob jobs[64];
  double best = 0.0;
  for (int rep = 0; rep < 7; ++rep) {
    double t0 = now_s();
    for (int t = 0; t < threads; ++t) {
      jobs[t] = (TriadJob){a, b, c, n * t / threads, n * (t + 1) / threads, inner_reps};
      pthread_create(&tid[t], NULL, triad_worker, &jobs[t]);
    }
    for (int t = 0; t < threads; ++t) pthread_join(tid[t], NULL);
    double dt = now_s() - t0;
    double bytes = 12.0 * (double)n * inner_reps;
    if (rep > 0 && bytes / dt / 1e9 > best) best = bytes / dt / 1e9; /* rep 0 faults pages in */
  }
  free(a), free(b), free(c);
  return best;
}

int main(int argc, char** argv) {
  int max_threads = argc > 1 ? atoi(argv[1]) : 1;
  if (max_threads < 1 || max_threads > 64) {
    fprintf(stderr, "roofline: invalid thread count '%s': expected 1..64\n", argv[1]);
    return 2;
  }
  /* Elements per array: see the header comment for the three sizes. */
  const size_t small_per_thread = 32 * 1024, mid_per_thread = 1024 * 1024, large = 32 * 1024 * 1024;
  printf("{\"isa\": \"%s\", \"lanes\": %d, \"per_threads\": [", ISA, LANES);
  for (int t = 1; t <= max_threads; ++t) {
    double peak = peak_gflops(t);
    double l2 = triad_gbs(small_per_thread * (size_t)t, t, 2000);
    double l3 = triad_gbs(mid_per_thread * (size_t)t, t, 50);
    double dram = triad_gbs(large, t, 3);
    printf(
        "%s{\"threads\": %d, \"peak_gflops\": %.2f, \"l2_triad_gbs\": %.2f, "
        "\"llc_triad_gbs\": %.2f, \"mem_triad_gbs\": %.2f, \"l2_set_bytes\": %zu, "
        "\"llc_set_bytes\": %zu, \"mem_set_bytes\": %zu}",
        t > 1 ? ", " : "", t, peak, l2, l3, dram, 12 * small_per_thread * (size_t)t,
        12 * mid_per_thread * (size_t)t, 12 * large);
  }
  printf("]}\n");
  return 0;
}
