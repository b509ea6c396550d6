/* A copy of `length` bytes whose stores bypass the caches where the CPU can (stream_copy.c); the areas must not overlap. */
#ifndef RUNNEL_STREAM_COPY_H
#define RUNNEL_STREAM_COPY_H
#include <stddef.h>
#include <stdint.h>
void stream_copy(unsigned char *target, const unsigned char *source, size_t length);
#endif
