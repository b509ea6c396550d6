/*
 * AES-256-GCM on x86-64 CPUs with VAES, VPCLMULQDQ and AVX2 (gcm_vaes.c):
 * two blocks per instruction where OpenSSL 3.0 (the one Node 20 links)
 * runs AES-NI one block at a time on such CPUs. Byte for byte the cipher
 * of NIST SP 800-38D with a 96-bit nonce and a 128-bit tag.
 */
#ifndef RUNNEL_GCM_VAES_H
#define RUNNEL_GCM_VAES_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
  /* The AES-256 key schedule (15 round keys), then GHASH's key H and its powers, ready for the bulk loop. */
  _Alignas(32) unsigned char round_keys[15][16];
  _Alignas(32) unsigned char h[16];
  /*
   * H^16..H^1 times x^-1 (gcm_vaes.c says why), in pairs, one pair per
   * 256-bit register of a 16-block step, and each power's Karatsuba half-sum.
   */
  _Alignas(32) unsigned char powers[8][32];
  _Alignas(32) unsigned char powers_k[8][32];
} gcm_vaes_key;

/* One seal or open in progress: the hash so far, the next counter, and the first counter block encrypted (masks the tag). */
typedef struct {
  _Alignas(16) unsigned char hash[16];
  _Alignas(16) unsigned char counter[16];
  _Alignas(16) unsigned char tag_mask[16];
  uint64_t aad_bytes;
  uint64_t text_bytes;
} gcm_vaes_state;

/*
 * 1 when this CPU (and its OS) has VAES, VPCLMULQDQ and AVX2 but not
 * AVX-512 (where OpenSSL has wider code of its own): only then is this
 * file's cipher used (the rest needs the first three only).
 */
int gcm_vaes_supported(void);
/* Makes `key` from 32 bytes. */
void gcm_vaes_init(gcm_vaes_key *key, const unsigned char bytes[32]);
/* Starts a seal or open under a 12-byte nonce, hashing the additional data. */
void gcm_vaes_start(const gcm_vaes_key *key, gcm_vaes_state *state, const unsigned char nonce[12], const unsigned char *aad, size_t aad_len);
/*
 * Encrypts (`seal`) or decrypts `length` bytes from `in` to `out`, which
 * are the same bytes, apart, or `out` below `in` overlapping it (every
 * block is read before anything is written over it). Every call but the
 * last must be given a multiple of 16 bytes.
 */
void gcm_vaes_update(const gcm_vaes_key *key, gcm_vaes_state *state, const unsigned char *in, unsigned char *out, size_t length, int seal);
/*
 * A seal's update that also runs the CRC-32C (Castagnoli) of the
 * ciphertext it writes, from and into the raw register *crc (not
 * inverted). Only where the CPU has the CRC-32C instruction.
 */
void gcm_vaes_seal_crc(const gcm_vaes_key *key, gcm_vaes_state *state, const unsigned char *in, unsigned char *out, size_t length, uint32_t *crc);
/* The tag, after the last update. */
void gcm_vaes_finish(const gcm_vaes_key *key, gcm_vaes_state *state, unsigned char tag[16]);
#endif
