/*
 * AES-256-GCM with VAES and VPCLMULQDQ on 256-bit registers (gcm_vaes.h).
 *
 * Why: on a Zen 3 core OpenSSL 3.0's AES-NI GCM (aesni_ctr32_ghash_6x)
 * opens or seals at about 0.7 cycles per byte, a third of the broker's CPU
 * per MB on an encrypted produce and half of it on a catch-up read
 * (bench/encryption.ts). VAES encrypts two blocks per instruction and
 * VPCLMULQDQ multiplies two pairs, so the same work takes about half the
 * instructions. Used only where the CPU has them and OpenSSL has nothing
 * wider (gcm_vaes_supported); OpenSSL otherwise, and both give the same
 * bytes (tests/storage/aes-gcm).
 *
 * GHASH works on byte-reversed blocks: loaded that way, a block is a
 * 128-bit integer whose bit 127 - i is the coefficient of x^i. A carry-less
 * product of two such integers is the reversed product shifted right by
 * one bit, so it is shifted back, then reduced modulo
 * g = x^128 + x^7 + x^2 + x + 1 by folding the high part times
 * (x^7 + x^2 + x + 1) in twice (ghash_fold). Sixteen blocks are hashed per
 * reduction, each multiplied by its own power of H (Horner's rule unrolled:
 * Y' = (Y + X1) H^16 + X2 H^15 + ... + X16 H), the products summed
 * unreduced; the powers are stored times x^-1, which cancels the shift.
 *
 * A seal is stitched (seal_stitched): the hash is over the ciphertext the
 * rounds write, so each step's hashing runs during the next step's rounds,
 * and a seal that also wants the CRC-32C of its ciphertext (a batch
 * envelope's) gets it there too, on the integer units the rounds leave
 * idle.
 *
 * Nothing here branches on or indexes by secret data: AES rounds are
 * instructions, GHASH is carry-less multiplication, and the tag comparison
 * is the caller's (constant time).
 */
#include "gcm_vaes.h"

#include "crc32c.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#include <string.h>

#define FAST __attribute__((target("aes,pclmul,ssse3,sse4.2,avx2,vaes,vpclmulqdq")))

/*
 * From CPUID itself: __builtin_cpu_supports does not know "vaes" in clang
 * 14 (the build would fail, and with it the whole addon). The OS must also
 * save the YMM registers across context switches (XGETBV: XMM and YMM state).
 *
 * Not where AVX-512 is usable too (AVX512F, VL, BW and DQ, with the OS
 * saving the opmask and ZMM state): there OpenSSL 3.0 runs its own VAES
 * code on 512-bit registers, four blocks per instruction, which this file
 * has not been measured against. So this runs where OpenSSL would fall back
 * to one block per instruction: AMD Zen 3, Intel client cores without
 * AVX-512.
 */
int gcm_vaes_supported(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  int aes = (c >> 25) & 1, pclmul = (c >> 1) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  if (!(aes && pclmul && osxsave && avx)) return 0;
  unsigned xcr0_low, xcr0_high;
  __asm__ __volatile__("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
  if ((xcr0_low & 6) != 6) return 0;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
  int avx2 = (b >> 5) & 1, vaes = (c >> 9) & 1, vpclmulqdq = (c >> 10) & 1;
  int avx512 = ((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1) && (xcr0_low & 0xe6) == 0xe6;
  return avx2 && vaes && vpclmulqdq && !avx512;
}

/* Reverses the 16 bytes of a block (or of each block of a pair). */
FAST static inline __m128i reverse_mask(void) { return _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }
FAST static inline __m128i reversed(__m128i x) { return _mm_shuffle_epi8(x, reverse_mask()); }

/* 128-bit shifts of a whole register, by 0 < n < 64. */
FAST static inline __m128i shr128(__m128i x, int n) {
  return _mm_or_si128(_mm_srli_epi64(x, n), _mm_slli_epi64(_mm_srli_si128(x, 8), 64 - n));
}
FAST static inline __m128i shl128_1(__m128i x) { return _mm_or_si128(_mm_slli_epi64(x, 1), _mm_srli_epi64(_mm_slli_si128(x, 8), 63)); }
/* x << n for 64 <= n < 128: only x's low half survives, into the high half. */
FAST static inline __m128i shl128_high(__m128i x, int n) { return _mm_slli_si128(_mm_slli_epi64(x, n - 64), 8); }

/*
 * The field element of a 256-bit carry-less product in reversed form:
 * q1 holds its coefficients of x^0..x^127, q0 those of x^128 and up.
 */
FAST static inline __m128i ghash_fold(__m128i q1, __m128i q0) {
  /* x^128 = x^7 + x^2 + x + 1: the high part times that, where multiplying by x^n is a shift right by n. */
  __m128i folded = _mm_xor_si128(_mm_xor_si128(q0, shr128(q0, 1)), _mm_xor_si128(shr128(q0, 2), shr128(q0, 7)));
  /* What that pushed past x^127 (at most x^133), folded in once more: it cannot overflow again. */
  __m128i over = _mm_xor_si128(_mm_xor_si128(shl128_high(q0, 127), shl128_high(q0, 126)), shl128_high(q0, 121));
  __m128i again = _mm_xor_si128(_mm_xor_si128(over, shr128(over, 1)), _mm_xor_si128(shr128(over, 2), shr128(over, 7)));
  return _mm_xor_si128(q1, _mm_xor_si128(folded, again));
}

/*
 * The 256-bit product from the three Karatsuba sums of a carry-less
 * multiplication (lo = a0 b0, hi = a1 b1, mid = (a0 + a1)(b0 + b1)).
 */
FAST static inline void ghash_combine(__m128i lo, __m128i mid, __m128i hi, __m128i *p1, __m128i *p0) {
  mid = _mm_xor_si128(mid, _mm_xor_si128(lo, hi));
  *p0 = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
  *p1 = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
}

/* a times b in the field (both reversed). */
FAST static inline __m128i ghash_mul(__m128i a, __m128i b) {
  __m128i p1, p0;
  ghash_combine(_mm_clmulepi64_si128(a, b, 0x00),
                _mm_clmulepi64_si128(_mm_xor_si128(a, _mm_srli_si128(a, 8)), _mm_xor_si128(b, _mm_srli_si128(b, 8)), 0x00),
                _mm_clmulepi64_si128(a, b, 0x11), &p1, &p0);
  /* Back by the bit reversal's one-bit shift. */
  return ghash_fold(_mm_or_si128(shl128_1(p1), _mm_srli_si128(_mm_srli_epi64(p0, 63), 8)), shl128_1(p0));
}

#define ASSIST(prev, t)                                                   \
  ({                                                                      \
    __m128i k_ = (prev);                                                  \
    k_ = _mm_xor_si128(k_, _mm_slli_si128(k_, 4));                        \
    k_ = _mm_xor_si128(k_, _mm_slli_si128(k_, 4));                        \
    k_ = _mm_xor_si128(k_, _mm_slli_si128(k_, 4));                        \
    _mm_xor_si128(k_, (t));                                               \
  })
/* Round key 2i+2 of AES-256 (FIPS 197 §5.2) from the two before it; rcon is an immediate. */
#define EXPAND_EVEN(rk, i, rcon) (rk[2 * (i) + 2] = ASSIST(rk[2 * (i)], _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk[2 * (i) + 1], rcon), 0xff)))
/* Round key 2i+3 from the two before it. */
#define EXPAND_ODD(rk, i) (rk[2 * (i) + 3] = ASSIST(rk[2 * (i) + 1], _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk[2 * (i) + 2], 0), 0xaa)))
#define EXPAND_PAIR(rk, i, rcon) (EXPAND_EVEN(rk, i, rcon), EXPAND_ODD(rk, i))

FAST static inline __m128i encrypt_block(const gcm_vaes_key *key, __m128i block) {
  const __m128i *rk = (const __m128i *)key->round_keys;
  block = _mm_xor_si128(block, _mm_load_si128(rk));
  for (int r = 1; r < 14; r++) block = _mm_aesenc_si128(block, _mm_load_si128(rk + r));
  return _mm_aesenclast_si128(block, _mm_load_si128(rk + 14));
}

FAST void gcm_vaes_init(gcm_vaes_key *key, const unsigned char bytes[32]) {
  __m128i rk[15];
  rk[0] = _mm_loadu_si128((const __m128i *)bytes);
  rk[1] = _mm_loadu_si128((const __m128i *)(bytes + 16));
  EXPAND_PAIR(rk, 0, 0x01);
  EXPAND_PAIR(rk, 1, 0x02);
  EXPAND_PAIR(rk, 2, 0x04);
  EXPAND_PAIR(rk, 3, 0x08);
  EXPAND_PAIR(rk, 4, 0x10);
  EXPAND_PAIR(rk, 5, 0x20);
  EXPAND_EVEN(rk, 6, 0x40); /* the 15th and last round key */
  for (int r = 0; r < 15; r++) _mm_store_si128((__m128i *)key->round_keys[r], rk[r]);
  /*
   * The bulk steps multiply by the powers of H times x^-1 (x^127 + x^6 + x + 1,
   * reversed 0xc2000000000000000000000000000001): a carry-less product of
   * reversed operands is the reversed product times x, so theirs comes out
   * as the product itself and needs no shift back.
   */
  const __m128i x_inverse = _mm_set_epi64x((long long)0xc200000000000000ULL, 1);
  __m128i h = reversed(encrypt_block(key, _mm_setzero_si128()));
  __m128i power[17];
  power[1] = h;
  for (int n = 2; n <= 16; n++) power[n] = ghash_mul(power[n - 1], h);
  _mm_store_si128((__m128i *)key->h, h);
  for (int j = 0; j < 8; j++) {
    /* Register j of a 16-block step holds blocks 2j (low lane) and 2j+1: they are multiplied by H^(16-2j) and H^(15-2j). */
    __m256i pair = _mm256_set_m128i(ghash_mul(power[15 - 2 * j], x_inverse), ghash_mul(power[16 - 2 * j], x_inverse));
    _mm256_store_si256((__m256i *)key->powers[j], pair);
    _mm256_store_si256((__m256i *)key->powers_k[j], _mm256_xor_si256(pair, _mm256_shuffle_epi32(pair, 0x4e)));
  }
  memset(power, 0, sizeof power);
  __asm__ __volatile__("" : : "r"(power) : "memory");
  memset(rk, 0, sizeof rk);
  __asm__ __volatile__("" : : "r"(rk) : "memory");
}

/* Hashes `length` bytes block by block, the last one padded with zeros. */
FAST static __m128i ghash_bytes(__m128i hash, __m128i h, const unsigned char *bytes, size_t length) {
  for (; length >= 16; bytes += 16, length -= 16) hash = ghash_mul(_mm_xor_si128(hash, reversed(_mm_loadu_si128((const __m128i *)bytes))), h);
  if (length > 0) {
    unsigned char last[16] = {0};
    memcpy(last, bytes, length);
    hash = ghash_mul(_mm_xor_si128(hash, reversed(_mm_loadu_si128((const __m128i *)last))), h);
  }
  return hash;
}

FAST void gcm_vaes_start(const gcm_vaes_key *key, gcm_vaes_state *state, const unsigned char nonce[12], const unsigned char *aad, size_t aad_len) {
  unsigned char j0[16];
  memcpy(j0, nonce, 12);
  j0[12] = 0, j0[13] = 0, j0[14] = 0, j0[15] = 1;
  __m128i first = _mm_loadu_si128((const __m128i *)j0);
  _mm_store_si128((__m128i *)state->tag_mask, encrypt_block(key, first));
  /* Counters are kept byte-reversed: the 32-bit big-endian counter is then the low lane, and adding to it is inc32. */
  _mm_store_si128((__m128i *)state->counter, _mm_add_epi32(reversed(first), _mm_set_epi32(0, 0, 0, 1)));
  __m128i h = _mm_load_si128((const __m128i *)key->h);
  _mm_store_si128((__m128i *)state->hash, ghash_bytes(_mm_setzero_si128(), h, aad, aad_len));
  state->aad_bytes = aad_len;
  state->text_bytes = 0;
}

/*
 * Adds one pair of (reversed) ciphertext blocks times its powers of H
 * (register `slot` of a 16-block step) to the unreduced sums; the first
 * pair of a step also carries the hash so far.
 */
FAST static inline __attribute__((always_inline)) void pair_multiply(const gcm_vaes_key *key, __m256i x, int slot, int first, __m128i hash, __m256i *lo,
                                                                      __m256i *mid, __m256i *hi) {
  if (first) x = _mm256_xor_si256(x, _mm256_set_m128i(_mm_setzero_si128(), hash));
  __m256i p = _mm256_load_si256((const __m256i *)key->powers[slot]);
  __m256i pk = _mm256_load_si256((const __m256i *)key->powers_k[slot]);
  *lo = _mm256_xor_si256(*lo, _mm256_clmulepi64_epi128(x, p, 0x00));
  *hi = _mm256_xor_si256(*hi, _mm256_clmulepi64_epi128(x, p, 0x11));
  *mid = _mm256_xor_si256(*mid, _mm256_clmulepi64_epi128(_mm256_xor_si256(x, _mm256_shuffle_epi32(x, 0x4e)), pk, 0x00));
}

/* The hash from a step's unreduced sums: both lanes added, then reduced once. */
FAST static inline __m128i pairs_reduced(__m256i lo, __m256i mid, __m256i hi) {
  __m128i p1, p0;
  ghash_combine(_mm_xor_si128(_mm256_castsi256_si128(lo), _mm256_extracti128_si256(lo, 1)),
                _mm_xor_si128(_mm256_castsi256_si128(mid), _mm256_extracti128_si256(mid, 1)),
                _mm_xor_si128(_mm256_castsi256_si128(hi), _mm256_extracti128_si256(hi, 1)), &p1, &p0);
  return ghash_fold(p1, p0);
}

/* CRC-32C, from the raw register `c`, of 8 * `words` bytes: one crc32 instruction after another. */
FAST static inline uint32_t crc_words(uint32_t c, const unsigned char *p, int words) {
  for (int i = 0; i < words; i++) {
    uint64_t v;
    memcpy(&v, p + 8 * i, 8);
    c = (uint32_t)_mm_crc32_u64(c, v);
  }
  return c;
}

/*
 * Seals `steps` (1 or more) 16-block steps, stitched: while the rounds of
 * one step run, the ciphertext of the step before is hashed and, with
 * `crc`, checksummed. The crc32 chain then runs on integer units beside
 * the rounds: a seal with its envelope's CRC costs about 190 µs of CPU per
 * MiB on the reference machine, as one without, where a CRC pass after
 * each piece added 60. (The seal alone is no faster stitched than
 * bulk_step's way: the vector units are the limit either way.)
 */
FAST static __m128i seal_stitched(const gcm_vaes_key *key, __m128i hash, __m128i counter, const unsigned char *in, unsigned char *out, size_t steps,
                                  uint32_t *crc) {
  const __m128i *rk = (const __m128i *)key->round_keys;
  const __m256i reverse2 = _mm256_broadcastsi128_si256(reverse_mask());
  const __m256i key0 = _mm256_broadcastsi128_si256(_mm_load_si128(rk));
  uint32_t sum = crc != NULL ? *crc : 0;
  const unsigned char *prev = NULL;
  for (size_t step = 0; step < steps; step++) {
    __m256i base = _mm256_add_epi32(_mm256_broadcastsi128_si256(counter), _mm256_set_epi32(0, 0, 0, 1, 0, 0, 0, 0));
    __m256i b[8];
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) b[j] = _mm256_xor_si256(_mm256_shuffle_epi8(_mm256_add_epi32(base, _mm256_set_epi32(0, 0, 0, 2 * j, 0, 0, 0, 2 * j)), reverse2), key0);
    __m256i lo = _mm256_setzero_si256(), mid = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
#pragma GCC unroll 14
    for (int r = 1; r < 14; r++) {
      __m256i k = _mm256_broadcastsi128_si256(_mm_load_si128(rk + r));
#pragma GCC unroll 8
      for (int j = 0; j < 8; j++) b[j] = _mm256_aesenc_epi128(b[j], k);
      /* One pair of the step before per round, in the rounds' latency. */
      if (prev != NULL && r <= 8) {
        pair_multiply(key, _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(prev + 32 * (r - 1))), reverse2), r - 1, r == 1, hash, &lo, &mid, &hi);
        if (crc != NULL) sum = crc_words(sum, prev + 32 * (r - 1), 4);
      }
    }
    const __m256i last = _mm256_broadcastsi128_si256(_mm_load_si128(rk + 14));
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
      /* Each block is read just before its ciphertext is written: in place is fine. */
      __m256i d = _mm256_loadu_si256((const __m256i *)(in + 32 * j));
      _mm256_storeu_si256((__m256i *)(out + 32 * j), _mm256_xor_si256(_mm256_aesenclast_epi128(b[j], last), d));
    }
    if (prev != NULL) hash = pairs_reduced(lo, mid, hi);
    prev = out;
    counter = _mm_add_epi32(counter, _mm_set_epi32(0, 0, 0, 16));
    in += 256, out += 256;
  }
  /* The last step's ciphertext, on its own. */
  __m256i lo = _mm256_setzero_si256(), mid = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
#pragma GCC unroll 8
  for (int j = 0; j < 8; j++) pair_multiply(key, _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(prev + 32 * j)), reverse2), j, j == 0, hash, &lo, &mid, &hi);
  if (crc != NULL) *crc = crc32c_raw(sum, prev, 256);
  return pairs_reduced(lo, mid, hi);
}

/*
 * Encrypts or decrypts 32 * `pairs` bytes (8 pairs: 16 blocks; 4: the
 * last 8 of the powers) from counter block `counter` on, and returns the
 * hash with their ciphertext in it, reduced once.
 */
FAST static inline __attribute__((always_inline)) __m128i bulk_step(const gcm_vaes_key *key, __m128i hash, __m128i counter,
                                                                    const unsigned char *in, unsigned char *out, const int pairs, int seal) {
  const __m128i *rk = (const __m128i *)key->round_keys;
  const __m256i reverse2 = _mm256_broadcastsi128_si256(reverse_mask());
  const int first = 8 - pairs;
  __m256i base = _mm256_add_epi32(_mm256_broadcastsi128_si256(counter), _mm256_set_epi32(0, 0, 0, 1, 0, 0, 0, 0));
  __m256i key0 = _mm256_broadcastsi128_si256(_mm_load_si128(rk));
  __m256i b[8], d[8];
#pragma GCC unroll 8
  for (int j = 0; j < pairs; j++) b[j] = _mm256_xor_si256(_mm256_shuffle_epi8(_mm256_add_epi32(base, _mm256_set_epi32(0, 0, 0, 2 * j, 0, 0, 0, 2 * j)), reverse2), key0);
  /* Opening hashes what it reads: that work is independent of the rounds below, so the CPU overlaps the two. */
  __m256i lo = _mm256_setzero_si256(), mid = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
#pragma GCC unroll 8
  for (int j = 0; j < pairs; j++) d[j] = _mm256_loadu_si256((const __m256i *)(in + 32 * j));
#pragma GCC unroll 14
  for (int r = 1; r < 14; r++) {
    __m256i k = _mm256_broadcastsi128_si256(_mm_load_si128(rk + r));
#pragma GCC unroll 8
    for (int j = 0; j < pairs; j++) b[j] = _mm256_aesenc_epi128(b[j], k);
  }
  __m256i last = _mm256_broadcastsi128_si256(_mm_load_si128(rk + 14));
#pragma GCC unroll 8
  for (int j = 0; j < pairs; j++) {
    __m256i o = _mm256_xor_si256(_mm256_aesenclast_epi128(b[j], last), d[j]);
    /* Every block of the step was read above, before this writes: out may lie just below in. */
    _mm256_storeu_si256((__m256i *)(out + 32 * j), o);
    /* The hash is over the ciphertext: what was written when sealing, what was read when opening. */
    pair_multiply(key, _mm256_shuffle_epi8(seal ? o : d[j], reverse2), first + j, j == 0, hash, &lo, &mid, &hi);
  }
  return pairs_reduced(lo, mid, hi);
}

/*
 * update, and when `crc` is not null (seals only) the CRC-32C of the
 * ciphertext too, continued from the raw register *crc.
 */
FAST static inline __attribute__((always_inline)) void update(const gcm_vaes_key *key, gcm_vaes_state *state, const unsigned char *in,
                                                               unsigned char *out, size_t length, int seal, uint32_t *crc) {
  __m128i hash = _mm_load_si128((const __m128i *)state->hash);
  __m128i counter = _mm_load_si128((const __m128i *)state->counter);
  state->text_bytes += length;
  if (seal && length >= 256) {
    size_t steps = length / 256;
    hash = seal_stitched(key, hash, counter, in, out, steps, crc);
    counter = _mm_add_epi32(counter, _mm_set_epi32(0, 0, 0, (int)(16 * steps)));
    in += 256 * steps, out += 256 * steps, length -= 256 * steps;
  }
  const unsigned char *unsummed = out;
  while (length >= 256) {
    hash = bulk_step(key, hash, counter, in, out, 8, seal);
    counter = _mm_add_epi32(counter, _mm_set_epi32(0, 0, 0, 16));
    in += 256, out += 256, length -= 256;
  }
  if (length >= 128) {
    hash = bulk_step(key, hash, counter, in, out, 4, seal);
    counter = _mm_add_epi32(counter, _mm_set_epi32(0, 0, 0, 8));
    in += 128, out += 128, length -= 128;
  }
  __m128i h = _mm_load_si128((const __m128i *)key->h);
  for (; length > 0;) {
    size_t n = length < 16 ? length : 16;
    unsigned char block[16] = {0};
    memcpy(block, in, n);
    __m128i d = _mm_loadu_si128((const __m128i *)block);
    __m128i o = _mm_xor_si128(encrypt_block(key, reversed(counter)), d);
    counter = _mm_add_epi32(counter, _mm_set_epi32(0, 0, 0, 1));
    _mm_storeu_si128((__m128i *)block, o);
    memcpy(out, block, n);
    /* A last partial block is hashed padded with zeros, not with the keystream past its end. */
    if (seal && n < 16) memset(block + n, 0, 16 - n);
    hash = ghash_mul(_mm_xor_si128(hash, reversed(seal ? _mm_loadu_si128((const __m128i *)block) : d)), h);
    in += n, out += n, length -= n;
  }
  _mm_store_si128((__m128i *)state->hash, hash);
  _mm_store_si128((__m128i *)state->counter, counter);
  if (crc != NULL) *crc = crc32c_raw(*crc, unsummed, (size_t)(out - unsummed));
}

FAST void gcm_vaes_update(const gcm_vaes_key *key, gcm_vaes_state *state, const unsigned char *in, unsigned char *out, size_t length, int seal) {
  update(key, state, in, out, length, seal, NULL);
}

FAST void gcm_vaes_seal_crc(const gcm_vaes_key *key, gcm_vaes_state *state, const unsigned char *in, unsigned char *out, size_t length, uint32_t *crc) {
  update(key, state, in, out, length, 1, crc);
}

FAST void gcm_vaes_finish(const gcm_vaes_key *key, gcm_vaes_state *state, unsigned char tag[16]) {
  __m128i h = _mm_load_si128((const __m128i *)key->h);
  /* The lengths block, in bits, big-endian: reversed, the additional data's is the high half. */
  __m128i lengths = _mm_set_epi64x((long long)(state->aad_bytes * 8), (long long)(state->text_bytes * 8));
  __m128i hash = ghash_mul(_mm_xor_si128(_mm_load_si128((const __m128i *)state->hash), lengths), h);
  _mm_storeu_si128((__m128i *)tag, _mm_xor_si128(reversed(hash), _mm_load_si128((const __m128i *)state->tag_mask)));
  memset(state, 0, sizeof *state);
  __asm__ __volatile__("" : : "r"(state) : "memory");
}

#else
int gcm_vaes_supported(void) { return 0; }
void gcm_vaes_init(gcm_vaes_key *key, const unsigned char bytes[32]) { (void)key, (void)bytes; }
void gcm_vaes_start(const gcm_vaes_key *key, gcm_vaes_state *state, const unsigned char nonce[12], const unsigned char *aad, size_t aad_len) {
  (void)key, (void)state, (void)nonce, (void)aad, (void)aad_len;
}
void gcm_vaes_update(const gcm_vaes_key *key, gcm_vaes_state *state, const unsigned char *in, unsigned char *out, size_t length, int seal) {
  (void)key, (void)state, (void)in, (void)out, (void)length, (void)seal;
}
void gcm_vaes_seal_crc(const gcm_vaes_key *key, gcm_vaes_state *state, const unsigned char *in, unsigned char *out, size_t length, uint32_t *crc) {
  (void)key, (void)state, (void)in, (void)out, (void)length, (void)crc;
}
void gcm_vaes_finish(const gcm_vaes_key *key, gcm_vaes_state *state, unsigned char tag[16]) { (void)key, (void)state, (void)tag; }
#endif
