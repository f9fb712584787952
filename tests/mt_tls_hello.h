/* mt_tls_hello.h - test helper: a minimal TLS ClientHello record with a server name, for the suites that feed TLS flows. */
#ifndef MT_TLS_HELLO_H
#define MT_TLS_HELLO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A TLS 1.3-style ClientHello record with one server_name (RFC 8446 4.1.2, RFC 6066 3). */
static inline size_t tls_hello(uint8_t *o, const char *sni)
{
	size_t sl = strlen(sni), n = 0, hs, ext;

	o[n++] = 22, o[n++] = 3, o[n++] = 1, n += 2; /* record header; length below */
	hs = n;
	o[n++] = 1, n += 3;                          /* ClientHello; length below */
	o[n++] = 3, o[n++] = 3;
	memset(o + n, 0x5a, 32), n += 32;            /* random */
	o[n++] = 0;                                  /* session id */
	o[n++] = 0, o[n++] = 2, o[n++] = 0x13, o[n++] = 0x01;
	o[n++] = 1, o[n++] = 0;                      /* compression: null */
	ext = n, n += 2;
	o[n++] = 0, o[n++] = 0;                      /* server_name */
	o[n++] = (uint8_t)((sl + 5) >> 8), o[n++] = (uint8_t)(sl + 5);
	o[n++] = (uint8_t)((sl + 3) >> 8), o[n++] = (uint8_t)(sl + 3);
	o[n++] = 0, o[n++] = (uint8_t)(sl >> 8), o[n++] = (uint8_t)sl;
	memcpy(o + n, sni, sl), n += sl;
	o[ext] = (uint8_t)((n - ext - 2) >> 8), o[ext + 1] = (uint8_t)(n - ext - 2);
	o[hs + 1] = 0, o[hs + 2] = (uint8_t)((n - hs - 4) >> 8), o[hs + 3] = (uint8_t)(n - hs - 4);
	o[3] = (uint8_t)((n - 5) >> 8), o[4] = (uint8_t)(n - 5);
	return n;
}

#endif
