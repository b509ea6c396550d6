/*
 * AES-256-GCM for encryption at rest, into buffers the caller owns.
 *
 * Why native: Node's crypto gives every update() a freshly allocated output
 * buffer and sets a cipher up per call through JavaScript objects; on this
 * project's reference machine that ran at 620-1,600 us per MiB sealed, where
 * the same OpenSSL (the one Node itself is linked with: these are Node's
 * headers and symbols, nothing else is linked) runs at 300-400 when it
 * writes where it is told (bench/encryption.ts measures both). On a CPU
 * with VAES but no AVX-512 the cipher is gcm_vaes.c's instead, about 1.6x
 * OpenSSL 3.0's there. JavaScript keeps every decision (formats, nonces, errors); this
 * file only runs the cipher.
 *
 *   key(bytes32, portable?)                   -> a key handle (its schedule, made once); portable:
 *                                                OpenSSL's code even where gcm_vaes.c could run
 *   vaes                                       -> whether keys run gcm_vaes.c (unless portable)
 *   seal(key, nonce12, aad, input, out, tag16) -> undefined  (out may be input itself)
 *   open(key, nonce12, aad, input, out, tag16) -> boolean    (false: the tag does not authenticate;
 *                                                             out then holds unauthenticated bytes)
 *   sealCrc(key, nonce12, aad, input, out, tag16, over) -> the CRC-32C of `over` once sealed
 *                                                  (over holds out then the tag: a batch's envelope)
 *   crc32c(bytes, state?)                      -> CRC-32C, as fast-crc32c's calculate()
 *   hardwareCrc                                -> whether sealCrc and crc32c may be called
 *   streamCopy(target, source)                 -> undefined: source into the start of target, with
 *                                                stores that bypass the caches (stream_copy.c)
 *
 * Buffers are any Uint8Array views, shared memory included. For seal, input
 * and out are the same bytes or do not overlap (OpenSSL's rule). open also
 * takes an out that overlaps input otherwise (a plaintext moving down over
 * its own envelope): gcm_vaes.c writes below its input directly; otherwise
 * it opens in place and moves the result, consuming input; memmove here is
 * fast at any alignment, where a JavaScript copy within shared memory goes
 * byte by byte.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "crc32c.h"
#include "stream_copy.h"
#include "gcm_vaes.h"

/* gcm_vaes.c's key where the CPU has VAES (and the key is not portable), else OpenSSL's two contexts; the other part is NULL. */
typedef struct {
  EVP_CIPHER_CTX *seal;
  EVP_CIPHER_CTX *open;
  gcm_vaes_key *vaes;
} gcm_key;

/* Whether gcm_vaes.c may run here: checked once, when the addon loads. */
static int vaes_supported = 0;

/* Tags key handles, so a stray external from another addon is refused instead of dereferenced. */
static const napi_type_tag KEY_TAG = {0x8f0d3c1e5a7b4d21ULL, 0x9e6a2f4c1b3d5e70ULL};

static void throw_type(napi_env env, const char *message) { napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message); }

/* The bytes of a Uint8Array (or Buffer) argument; 0 after throwing when it is not one. */
static int bytes_of(napi_env env, napi_value value, unsigned char **data, size_t *length, const char *what) {
  bool is_typed = false;
  napi_typedarray_type type;
  napi_value backing;
  size_t offset;
  void *ptr = NULL;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &type, length, &ptr, &backing, &offset) != napi_ok || type != napi_uint8_array) {
    throw_type(env, what);
    return 0;
  }
  *data = ptr;
  return 1;
}

static void free_key(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  gcm_key *key = data;
  /* EVP_CIPHER_CTX_free clears the key schedule before it frees it (and takes NULL). */
  EVP_CIPHER_CTX_free(key->seal);
  EVP_CIPHER_CTX_free(key->open);
  if (key->vaes != NULL) {
    OPENSSL_cleanse(key->vaes, sizeof *key->vaes);
    free(key->vaes);
  }
  free(key);
}

/* key(bytes, portable?): `portable` true makes a key that always runs OpenSSL's code (tests and benches compare the two). */
static napi_value make_key(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  unsigned char *bytes;
  size_t length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1 || !bytes_of(env, argv[0], &bytes, &length, "key: a Uint8Array of 32 bytes")) return NULL;
  if (length != 32) {
    napi_throw_range_error(env, "ERR_CRYPTO_INVALID_KEYLEN", "an AES-256 key is 32 bytes");
    return NULL;
  }
  gcm_key *key = calloc(1, sizeof *key);
  if (key == NULL) {
    napi_throw_error(env, NULL, "out of memory for an AES-GCM key");
    return NULL;
  }
  bool portable = false;
  if (argc >= 2 && napi_get_value_bool(env, argv[1], &portable) != napi_ok) {
    free_key(env, key, NULL);
    throw_type(env, "portable: a boolean");
    return NULL;
  }
  /* One engine per key: gcm_vaes.c's where it runs, OpenSSL's two contexts otherwise (run() looks at vaes first). */
  if (vaes_supported && !portable) {
    key->vaes = aligned_alloc(32, sizeof *key->vaes);
    if (key->vaes == NULL) {
      free_key(env, key, NULL);
      napi_throw_error(env, NULL, "out of memory for an AES-GCM key");
      return NULL;
    }
    gcm_vaes_init(key->vaes, bytes);
  } else {
    key->seal = EVP_CIPHER_CTX_new();
    key->open = EVP_CIPHER_CTX_new();
    if (key->seal == NULL || key->open == NULL || EVP_EncryptInit_ex(key->seal, EVP_aes_256_gcm(), NULL, bytes, NULL) != 1 ||
        EVP_DecryptInit_ex(key->open, EVP_aes_256_gcm(), NULL, bytes, NULL) != 1) {
      free_key(env, key, NULL);
      napi_throw_error(env, NULL, "OpenSSL could not set up an AES-256-GCM key");
      return NULL;
    }
  }
  napi_value handle;
  if (napi_create_external(env, key, free_key, NULL, &handle) != napi_ok) {
    free_key(env, key, NULL);
    return NULL;
  }
  napi_type_tag_object(env, handle, &KEY_TAG);
  return handle;
}

enum mode { OPEN, SEAL, SEAL_CRC };

/*
 * On OpenSSL's code, ciphertext is written and checksummed this many bytes
 * at a time when a seal also computes the CRC: small enough to still be in
 * the L1 cache when the CRC reads it, and a multiple of the 96 bytes
 * OpenSSL's AES-NI GCM takes at once (and of the 16-byte block), so every
 * piece but the last stays on its fast path. (gcm_vaes.c runs the CRC
 * inside its rounds instead.)
 */
#define CRC_PIECE (96 * 160)

/*
 * run()'s work on gcm_vaes.c's cipher, its arguments checked: the same
 * results as OpenSSL's. Returns 1, or 0 for an open whose tag does not
 * authenticate.
 */
static int run_vaes(const gcm_vaes_key *key, enum mode mode, const unsigned char *nonce, const unsigned char *aad, size_t aad_len,
                    unsigned char *input, unsigned char *out, size_t length, unsigned char *tag, const unsigned char *over,
                    size_t over_len, uint32_t *crc) {
  gcm_vaes_state state;
  gcm_vaes_start(key, &state, nonce, aad, aad_len);
  if (mode == OPEN) {
    /* Blocks are read before they are written over: an out at or below input takes the plaintext where it is, one above it after a move. */
    int up = out > input && out < input + length;
    gcm_vaes_update(key, &state, input, up ? input : out, length, 0);
    unsigned char expected[16];
    gcm_vaes_finish(key, &state, expected);
    if (up) memmove(out, input, length);
    return CRYPTO_memcmp(expected, tag, 16) == 0 ? 1 : 0;
  }
  if (mode == SEAL) {
    gcm_vaes_update(key, &state, input, out, length, 1);
    gcm_vaes_finish(key, &state, tag);
    return 1;
  }
  /* The CRC of the ciphertext runs inside the seal, beside the rounds (gcm_vaes.c seal_stitched). */
  uint32_t sum = crc32c_raw(~0u, over, (size_t)(out - over));
  gcm_vaes_seal_crc(key, &state, input, out, length, &sum);
  gcm_vaes_finish(key, &state, tag);
  *crc = ~crc32c_raw(sum, out + length, (size_t)(over + over_len - (out + length)));
  return 1;
}

/*
 * Runs one open, seal, or seal that also returns the CRC-32C of the bytes
 * of `over` (argument 7) as they are once sealed: `over` holds out and the
 * tag, in that order (a batch's envelope: header, ciphertext, tag), so the
 * batch needs no second pass for its CRC. Returns 1 when OpenSSL succeeded
 * (for open: the tag authenticated), 0 when the tag did not authenticate,
 * -1 after throwing.
 */
static int run(napi_env env, napi_callback_info info, enum mode mode, uint32_t *crc) {
  size_t expected = mode == SEAL_CRC ? 7 : 6;
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return -1;
  if (argc < expected) {
    throw_type(env, mode == SEAL_CRC ? "expected (key, nonce, aad, input, out, tag, over)" : "expected (key, nonce, aad, input, out, tag)");
    return -1;
  }
  bool tagged = false;
  gcm_key *key = NULL;
  if (napi_check_object_type_tag(env, argv[0], &KEY_TAG, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, argv[0], (void **)&key) != napi_ok) {
    throw_type(env, "key: a handle made by key()");
    return -1;
  }
  unsigned char *nonce, *aad, *input, *out, *tag, *over = NULL;
  size_t nonce_len, aad_len, input_len, out_len, tag_len, over_len = 0;
  if (!bytes_of(env, argv[1], &nonce, &nonce_len, "nonce: a Uint8Array") || !bytes_of(env, argv[2], &aad, &aad_len, "aad: a Uint8Array") ||
      !bytes_of(env, argv[3], &input, &input_len, "input: a Uint8Array") || !bytes_of(env, argv[4], &out, &out_len, "out: a Uint8Array") ||
      !bytes_of(env, argv[5], &tag, &tag_len, "tag: a Uint8Array") ||
      (mode == SEAL_CRC && !bytes_of(env, argv[6], &over, &over_len, "over: a Uint8Array"))) {
    return -1;
  }
  if (nonce_len != 12 || tag_len != 16 || out_len != input_len || input_len > INT_MAX || aad_len > INT_MAX) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "nonce is 12 bytes, tag 16, out as long as input (at most 2 GiB)");
    return -1;
  }
  /* The CRC runs over `over` front to back: what precedes out, out as it is sealed, then what follows it, tag included. */
  if (mode == SEAL_CRC) {
    /* Compared as addresses: the views may come from different buffers, where C leaves pointer order undefined. */
    uintptr_t o = (uintptr_t)over, o_end = o + over_len, b = (uintptr_t)out, b_end = b + out_len, g = (uintptr_t)tag;
    if (!crc32c_init()) {
      napi_throw_error(env, NULL, "sealCrc: this CPU has no CRC-32C instruction");
      return -1;
    }
    if (over == NULL || b < o || b_end > o_end || g < b_end || g + tag_len > o_end) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "sealCrc: over must hold out, then the tag");
      return -1;
    }
  }
  /* OpenSSL works in place only on the very same bytes. */
  int moved = out != input && out < input + input_len && input < out + out_len;
  if (moved && mode != OPEN) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "seal: input and out overlap without being the same bytes");
    return -1;
  }
  if (key->vaes != NULL) return run_vaes(key->vaes, mode, nonce, aad, aad_len, input, out, input_len, tag, over, over_len, crc);
  unsigned char *into = moved ? input : out;
  EVP_CIPHER_CTX *ctx = mode == OPEN ? key->open : key->seal;
  int n = 0;
  /* A null cipher and key keep the schedule made in key(); only the nonce is new. */
  if (mode != OPEN) {
    uint32_t state = 0;
    int ok = EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1 && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1;
    if (mode == SEAL) {
      ok = ok && EVP_EncryptUpdate(ctx, out, &n, input, (int)input_len) == 1;
    } else {
      state = crc32c_raw(~0u, over, (size_t)(out - over));
      for (size_t done = 0; ok && done < input_len;) {
        size_t piece = input_len - done < CRC_PIECE ? input_len - done : CRC_PIECE;
        /* GCM is a stream: each update writes as many bytes as it is given (checked: the CRC must see them all). */
        ok = EVP_EncryptUpdate(ctx, out + done, &n, input + done, (int)piece) == 1 && (size_t)n == piece;
        if (ok) state = crc32c_raw(state, out + done, piece);
        done += piece;
      }
    }
    ok = ok && EVP_EncryptFinal_ex(ctx, out + input_len, &n) == 1 && n == 0 && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    if (!ok) {
      napi_throw_error(env, NULL, "OpenSSL failed to seal");
      return -1;
    }
    if (mode == SEAL_CRC) *crc = ~crc32c_raw(state, out + out_len, (size_t)(over + over_len - (out + out_len)));
    return 1;
  }
  if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1 || EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1 ||
      EVP_DecryptUpdate(ctx, into, &n, input, (int)input_len) != 1 || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1) {
    napi_throw_error(env, NULL, "OpenSSL failed to open");
    return -1;
  }
  /* GCM is a stream: every byte came out of the update above, and final only checks the tag. */
  int authentic = EVP_DecryptFinal_ex(ctx, into + n, &n) == 1;
  if (moved) memmove(out, input, input_len);
  return authentic ? 1 : 0;
}

static napi_value seal(napi_env env, napi_callback_info info) {
  run(env, info, SEAL, NULL);
  return NULL;
}

static napi_value seal_crc(napi_env env, napi_callback_info info) {
  uint32_t crc = 0;
  if (run(env, info, SEAL_CRC, &crc) < 0) return NULL;
  napi_value result;
  napi_create_uint32(env, crc, &result);
  return result;
}

static napi_value open_(napi_env env, napi_callback_info info) {
  int result = run(env, info, OPEN, NULL);
  if (result < 0) return NULL;
  napi_value authentic;
  napi_get_boolean(env, result == 1, &authentic);
  return authentic;
}

/* crc32c(bytes, state): the CRC-32C of bytes continuing from `state` (0 to start), as fast-crc32c's calculate(). For tests and benches. */
static napi_value crc32c(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  unsigned char *bytes;
  size_t length;
  uint32_t state = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1 || !bytes_of(env, argv[0], &bytes, &length, "bytes: a Uint8Array")) return NULL;
  if (argc >= 2 && napi_get_value_uint32(env, argv[1], &state) != napi_ok) {
    throw_type(env, "state: a number");
    return NULL;
  }
  if (!crc32c_init()) {
    napi_throw_error(env, NULL, "this CPU has no CRC-32C instruction");
    return NULL;
  }
  napi_value result;
  napi_create_uint32(env, ~crc32c_raw(~state, bytes, length), &result);
  return result;
}

/* streamCopy(target, source): the bytes of source into the start of target (which must hold them; views of different buffers, or apart). */
static napi_value stream_copy_(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  unsigned char *target, *source;
  size_t target_len, source_len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 2 || !bytes_of(env, argv[0], &target, &target_len, "target: a Uint8Array") || !bytes_of(env, argv[1], &source, &source_len, "source: a Uint8Array")) return NULL;
  uintptr_t t = (uintptr_t)target, s = (uintptr_t)source;
  if (source_len > target_len || (t < s + source_len && s < t + source_len)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "streamCopy: target must hold source, and they must not overlap");
    return NULL;
  }
  stream_copy(target, source, source_len);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"key", NULL, make_key, NULL, NULL, NULL, napi_default, NULL},
      {"seal", NULL, seal, NULL, NULL, NULL, napi_default, NULL},
      {"open", NULL, open_, NULL, NULL, NULL, napi_default, NULL},
      {"sealCrc", NULL, seal_crc, NULL, NULL, NULL, napi_default, NULL},
      {"crc32c", NULL, crc32c, NULL, NULL, NULL, napi_default, NULL},
      {"streamCopy", NULL, stream_copy_, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, 6, functions) != napi_ok) return NULL;
  napi_value hardware;
  /* crc32c_init makes its tables once per process, whichever thread loads the addon first. */
  napi_get_boolean(env, crc32c_init() != 0, &hardware);
  napi_set_named_property(env, exports, "hardwareCrc", hardware);
  vaes_supported = gcm_vaes_supported();
  napi_value vaes;
  napi_get_boolean(env, vaes_supported != 0, &vaes);
  napi_set_named_property(env, exports, "vaes", vaes);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
