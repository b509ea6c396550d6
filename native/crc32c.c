/*
 * CRC-32C (Castagnoli), the checksum of record batches, with the CPU's own
 * instruction (SSE4.2 crc32 on x86-64, the CRC extension on arm64 builds
 * that enable it), so
 * that sealing a batch can checksum each piece of ciphertext right after
 * the cipher wrote it, while it is still in the L1 cache (aes_gcm.c).
 *
 * Three streams at a time: the instruction takes 3 cycles before its
 * result can feed the next one but can start one every cycle, so one
 * running CRC leaves the unit two-thirds idle. Each block of 3 x STREAM
 * bytes runs three independent CRCs, over its thirds, and joins them:
 * the register is linear over GF(2), so the register after a third whose
 * CRC from zero is c, entered with state s, is shift(s) ^ c, where shift
 * runs s through STREAM zero bytes. shift is tabulated once at start (a
 * byte of the state at a time), by running each single-bit state through
 * those zeros with the instruction itself.
 *
 * Without the instruction (other CPUs, or an arm64 build not told of the
 * CRC extension), crc32c_init says so and callers use fast-crc32c.
 *
 * Checked against fast-crc32c on every length past two blocks, at every
 * alignment, from 0 and from chained states (tests/protocol/crc32c).
 */
#include "crc32c.h"

#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#define HW __attribute__((target("sse4.2")))
static int has_instruction(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}
HW static inline uint32_t step8(uint32_t c, const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return (uint32_t)_mm_crc32_u64(c, v);
}
HW static inline uint32_t step1(uint32_t c, unsigned char b) { return _mm_crc32_u8(c, b); }
#elif defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
/* Only where the compiler was told the CPU has the extension (-march=armv8-a+crc, Apple's arm64): a plain Linux arm64 build takes the fallback. */
#include <arm_acle.h>
#define HW
static int has_instruction(void) { return 1; }
static inline uint32_t step8(uint32_t c, const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return __crc32cd(c, v);
}
static inline uint32_t step1(uint32_t c, unsigned char b) { return __crc32cb(c, b); }
#else
#define NO_INSTRUCTION
#endif

#ifdef NO_INSTRUCTION
int crc32c_init(void) { return 0; }
uint32_t crc32c_raw(uint32_t state, const unsigned char *bytes, size_t length) {
  (void)bytes;
  (void)length;
  return state; /* never called: crc32c_init said no */
}
#else
#include <pthread.h>

/* Bytes per stream in a block: large enough that joining (8 table reads) is noise, small enough for short batches to use it. */
#define STREAM 512
static uint32_t shift_table[4][256];

static inline uint32_t shift(uint32_t c) {
  return shift_table[0][c & 0xff] ^ shift_table[1][(c >> 8) & 0xff] ^ shift_table[2][(c >> 16) & 0xff] ^ shift_table[3][c >> 24];
}

HW static uint32_t one_stream(uint32_t c, const unsigned char *p, size_t n) {
  for (; n >= 8; n -= 8, p += 8) c = step8(c, p);
  for (; n > 0; n--) c = step1(c, *p++);
  return c;
}

HW uint32_t crc32c_raw(uint32_t c, const unsigned char *p, size_t n) {
  for (; n > 0 && ((uintptr_t)p & 7) != 0; n--) c = step1(c, *p++);
  for (; n >= 3 * STREAM; n -= 3 * STREAM, p += 3 * STREAM) {
    uint32_t c1 = 0;
    uint32_t c2 = 0;
    for (size_t i = 0; i < STREAM; i += 8) {
      c = step8(c, p + i);
      c1 = step8(c1, p + STREAM + i);
      c2 = step8(c2, p + 2 * STREAM + i);
    }
    c = shift(shift(c) ^ c1) ^ c2;
  }
  return one_stream(c, p, n);
}

static int available = 0;

static void make_tables(void) {
  if (!has_instruction()) return;
  static const unsigned char zeros[STREAM];
  uint32_t column[32];
  for (int bit = 0; bit < 32; bit++) column[bit] = one_stream(1u << bit, zeros, STREAM);
  for (int k = 0; k < 4; k++) {
    for (int byte = 0; byte < 256; byte++) {
      uint32_t v = 0;
      for (int j = 0; j < 8; j++) {
        if (byte & (1 << j)) v ^= column[8 * k + j];
      }
      shift_table[k][byte] = v;
    }
  }
  available = 1;
}

/* Once per process: the addon is loaded again by every worker thread that uses it (the batch opener's). */
int crc32c_init(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, make_tables);
  return available;
}
#endif
