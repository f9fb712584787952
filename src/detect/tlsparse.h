/* tlsparse.h - bounded parsers for the clear parts of a TLS handshake: ClientHello (SNI, ALPN), ServerHello, the server certificate's names. */
#ifndef MT_TLSPARSE_H
#define MT_TLSPARSE_H

#include <stddef.h>
#include <stdint.h>

/* Handshake bytes gathered from the first records of one direction (mt_tls_flatten). */
#define MT_TLS_HS_MAX 32768u
#define MT_TLS_NAME_MAX 255u   /* host names longer than this are ignored */
#define MT_X509_MAX_NAMES 64u  /* names reported per certificate (CN + SAN dNSNames) */

/* Results of the parsers: 1 done, 0 need more bytes, -1 not this protocol / malformed. */

/*
 * Concatenates the bodies of the handshake records (content type 22) at the
 * start of a TLS stream into out (at most cap bytes). *complete is set to 1
 * when a record of another type followed (the handshake phase in clear is
 * over) or cap was reached. Returns the number of bytes written, or -1 if
 * data does not start like TLS records.
 */
int mt_tls_flatten(const uint8_t *data, size_t len, uint8_t *out, size_t cap, int *complete);

typedef struct mt_tls_client_hello {
	char sni[MT_TLS_NAME_MAX + 1]; /* "" if none; lower-case as sent */
	uint8_t alpn_http;   /* offers http/1.1, h2 or h3: a browser-like client */
	uint8_t alpn_any;    /* sent an ALPN extension */
	uint16_t version;    /* legacy_version of the hello */
} mt_tls_client_hello;

/* Parses the ClientHello at the start of flattened handshake bytes (RFC 8446 4.1.2, RFC 6066 3, RFC 7301). */
int mt_tls_client_hello_parse(const uint8_t *hs, size_t len, mt_tls_client_hello *out);

typedef struct mt_tls_server {
	uint8_t hello;       /* ServerHello seen */
	uint8_t tls13;       /* supported_versions said TLS 1.3: the certificate is encrypted */
	uint8_t has_cert;    /* a Certificate message was parsed */
	uint16_t version;
	uint32_t nnames;
	char names[MT_X509_MAX_NAMES][MT_TLS_NAME_MAX + 1]; /* subject CN then SAN dNSNames */
} mt_tls_server;

/*
 * Parses ServerHello and (TLS 1.2 and older) Certificate from flattened
 * server handshake bytes; names of the leaf certificate go to out->names.
 * Returns 1 when the certificate was read or cannot be (TLS 1.3), 0 when more
 * bytes are needed, -1 on malformed input.
 */
int mt_tls_server_parse(const uint8_t *hs, size_t len, mt_tls_server *out);

/*
 * Calls cb for the subject commonName and each subjectAltName dNSName of a
 * DER X.509 certificate (RFC 5280 4.1, 4.2.1.6). Strings are bytes as in the
 * certificate (not NUL-terminated). Returns the number of names, or -1 if
 * the DER is malformed.
 */
int mt_tls_x509_names(const uint8_t *der, size_t len,
		  void (*cb)(void *ctx, const char *name, size_t n, int san), void *ctx);

#endif
