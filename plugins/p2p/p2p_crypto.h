/* p2p_crypto.h - the hashes and curve check the P2P plugin needs: SHA-256(d), Keccak-256, secp256k1 point test. */
#ifndef MT_P2P_CRYPTO_H
#define MT_P2P_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define MT_P2P_HASH_LEN 32

/* SHA-256 of p[0, n) (FIPS 180-4). p may be NULL when n is 0. */
void mt_p2p_sha256(const uint8_t *p, size_t n, uint8_t out[MT_P2P_HASH_LEN]);

/* SHA-256 applied twice: the Bitcoin message checksum is its first 4 bytes. */
void mt_p2p_sha256d(const uint8_t *p, size_t n, uint8_t out[MT_P2P_HASH_LEN]);

/*
 * Keccak-256 as Ethereum uses it: Keccak[c=512] with the original
 * multi-rate padding (first pad byte 0x01), not FIPS 202 SHA3-256 (0x06).
 */
void mt_p2p_keccak256(const uint8_t *p, size_t n, uint8_t out[MT_P2P_HASH_LEN]);

/* FIPS 202 SHA3-256: the same permutation with the 0x06 pad; kept to test the permutation. */
void mt_p2p_sha3_256(const uint8_t *p, size_t n, uint8_t out[MT_P2P_HASH_LEN]);

/*
 * 1 if xy (X then Y, 32 bytes each, big-endian: an uncompressed SEC 1 point
 * without its 0x04 tag) lies on secp256k1 (y^2 = x^3 + 7 over p =
 * 2^256 - 2^32 - 977, SEC 2 section 2.4.1), else 0. Constant work, no allocation.
 */
int mt_p2p_secp256k1_on_curve(const uint8_t xy[64]);

#endif
