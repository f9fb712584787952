/* siphash.h - SipHash-2-4 (Aumasson and Bernstein, 2012): the keyed hash of the flow table. */
#ifndef MT_SIPHASH_H
#define MT_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit SipHash-2-4 of data with a 16-byte key (reference test vectors hold). */
uint64_t mt_siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
