/* siphash.h - SipHash-2-4 and SipHash-1-3 (Aumasson and Bernstein, 2012): keyed hashes. */
#ifndef MT_SIPHASH_H
#define MT_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit SipHash-2-4 of data with a 16-byte key (reference test vectors hold). */
uint64_t mt_siphash24(const uint8_t key[16], const void *data, size_t len);

/*
 * 64-bit SipHash-1-3: the same construction with one round per block and three
 * at the end (the variant Rust's HashMap uses against hash flooding). Half the
 * rounds of SipHash-2-4 on short inputs; the flow table's hash (flow.c).
 */
uint64_t mt_siphash13(const uint8_t key[16], const void *data, size_t len);

#endif
