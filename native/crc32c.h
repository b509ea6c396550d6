/* CRC-32C with the CPU's instruction (crc32c.c). */
#ifndef RUNNEL_CRC32C_H
#define RUNNEL_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/* Sets up the tables; returns 1 when this CPU has a CRC-32C instruction (only then may the rest be called). */
int crc32c_init(void);
/*
 * The CRC-32C register after `bytes` from `state`, with no inversions: a
 * batch's CRC is ~crc32c_raw(~0u, ...), and a CRC over pieces is the
 * register passed from one piece to the next.
 */
uint32_t crc32c_raw(uint32_t state, const unsigned char *bytes, size_t length);
#endif
