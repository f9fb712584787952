/* tlsparse.c - TLS ClientHello / ServerHello / Certificate and X.509 name parsing over untrusted bytes, every read bounds-checked. */
#include "detect/tlsparse.h"

#include <string.h>

#include "util/rd.h"

/*
 * Wire formats: TLS records and handshake messages (RFC 8446 5.1 and 4,
 * RFC 5246 7.4 for TLS 1.2's Certificate), server_name (RFC 6066 3), ALPN
 * (RFC 7301 3.1), supported_versions (RFC 8446 4.2.1); X.509 (RFC 5280 4.1)
 * in DER (ITU-T X.690 8.1: tag, length in short or long form, value).
 */

#define TLS_CT_HANDSHAKE 22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_HS_SERVER_HELLO 2
#define TLS_HS_CERTIFICATE 11
#define TLS_EXT_SNI 0
#define TLS_EXT_ALPN 16
#define TLS_EXT_SUPPORTED_VERSIONS 43
#define TLS_MAX_RECORD (16384u + 2048u) /* RFC 8446 5.2: TLSCiphertext.length limit */

int mt_tls_flatten(const uint8_t *data, size_t len, uint8_t *out, size_t cap, int *complete)
{
	size_t off = 0, w = 0;

	*complete = 0;
	while (len - off >= 5) {
		const uint8_t *h = data + off;
		size_t rl = (size_t)h[3] << 8 | h[4], take;
		if (h[1] != 3 || h[2] > 4 || rl > TLS_MAX_RECORD)
			return w || off ? (*complete = 1, (int)w) : -1;
		if (h[0] != TLS_CT_HANDSHAKE) {
			if (off == 0)
				return -1;
			*complete = 1;
			return (int)w;
		}
		if (len - off - 5 < rl)
			break; /* the record is still arriving */
		take = rl < cap - w ? rl : cap - w;
		memcpy(out + w, h + 5, take);
		w += take;
		off += 5 + rl;
		if (w == cap) {
			*complete = 1;
			break;
		}
	}
	if (off == 0 && len >= 1 && data[0] != TLS_CT_HANDSHAKE)
		return -1;
	if (off == 0 && len >= 2 && data[1] != 3)
		return -1;
	return (int)w;
}

/* Copies a host name if it is plausible (printable ASCII, no space), lower-cased. */
static void copy_host(char *dst, const uint8_t *p, size_t n)
{
	size_t i;

	dst[0] = '\0';
	if (n == 0 || n > MT_TLS_NAME_MAX)
		return;
	for (i = 0; i < n; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f)
			return;
	for (i = 0; i < n; i++)
		dst[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
	dst[n] = '\0';
}

static void parse_sni(mt_rd *e, mt_tls_client_hello *out)
{
	mt_rd list = mt_rd_sub(e, mt_rd_be16(e));

	while (mt_rd_left(&list) >= 3) {
		uint8_t type = mt_rd_u8(&list);
		uint16_t n = mt_rd_be16(&list);
		const uint8_t *name = mt_rd_ptr(&list, n);
		if (!name)
			return;
		if (type == 0) { /* host_name */
			copy_host(out->sni, name, n);
			return;
		}
	}
}

static void parse_alpn(mt_rd *e, mt_tls_client_hello *out)
{
	mt_rd list = mt_rd_sub(e, mt_rd_be16(e));

	out->alpn_any = 1;
	while (mt_rd_left(&list) >= 1) {
		uint8_t n = mt_rd_u8(&list);
		const uint8_t *p = mt_rd_ptr(&list, n);
		if (!p)
			return;
		if ((n == 8 && memcmp(p, "http/1.1", 8) == 0) || (n == 2 && memcmp(p, "h2", 2) == 0) ||
		    (n == 2 && memcmp(p, "h3", 2) == 0))
			out->alpn_http = 1;
	}
}

int mt_tls_client_hello_parse(const uint8_t *hs, size_t len, mt_tls_client_hello *out)
{
	mt_rd r, m, ext;
	uint32_t mlen;

	memset(out, 0, sizeof(*out));
	mt_rd_init(&r, hs, len);
	if (len >= 1 && hs[0] != TLS_HS_CLIENT_HELLO)
		return -1;
	if (len < 4)
		return 0;
	mt_rd_u8(&r);
	mlen = mt_rd_be24(&r);
	if (mlen > MT_TLS_HS_MAX * 2)
		return -1;
	if (mt_rd_left(&r) < mlen)
		return 0;
	m = mt_rd_sub(&r, mlen);
	out->version = mt_rd_be16(&m);
	mt_rd_skip(&m, 32);               /* random */
	mt_rd_skip(&m, mt_rd_u8(&m));     /* legacy_session_id */
	mt_rd_skip(&m, mt_rd_be16(&m));   /* cipher_suites */
	mt_rd_skip(&m, mt_rd_u8(&m));     /* legacy_compression_methods */
	if (m.err || (out->version >> 8) != 3)
		return -1;
	if (mt_rd_left(&m) == 0)
		return 1; /* no extensions (SSL 3.0 style): no name */
	ext = mt_rd_sub(&m, mt_rd_be16(&m));
	if (ext.err)
		return -1;
	while (mt_rd_left(&ext) >= 4) {
		uint16_t type = mt_rd_be16(&ext);
		mt_rd e = mt_rd_sub(&ext, mt_rd_be16(&ext));
		if (e.err)
			return -1;
		if (type == TLS_EXT_SNI)
			parse_sni(&e, out);
		else if (type == TLS_EXT_ALPN)
			parse_alpn(&e, out);
	}
	return 1;
}

/* ---- X.509 ---- */

/* One DER TLV: its tag and a reader over its value. -1 if malformed. */
static int der_next(mt_rd *r, uint8_t *tag, mt_rd *val)
{
	uint8_t t = mt_rd_u8(r), l = mt_rd_u8(r);
	size_t n;

	if (r->err || (t & 0x1f) == 0x1f) /* high tag numbers do not occur in certificates */
		return -1;
	if (l < 0x80) {
		n = l;
	} else {
		int k = l & 0x7f;
		if (k == 0 || k > 3) /* indefinite length is not DER; 16 MB is enough */
			return -1;
		n = 0;
		while (k--)
			n = n << 8 | mt_rd_u8(r);
		if (r->err)
			return -1;
	}
	*tag = t;
	*val = mt_rd_sub(r, n);
	return val->err ? -1 : 0;
}

static int der_expect(mt_rd *r, uint8_t want, mt_rd *val)
{
	uint8_t t;

	if (der_next(r, &t, val) < 0 || t != want)
		return -1;
	return 0;
}

static const uint8_t oid_cn[] = {0x55, 0x04, 0x03};  /* 2.5.4.3 commonName */
static const uint8_t oid_san[] = {0x55, 0x1d, 0x11}; /* 2.5.29.17 subjectAltName */

static int oid_is(const mt_rd *v, const uint8_t *oid, size_t n)
{
	return v->len == n && memcmp(v->p, oid, n) == 0;
}

/* Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue). */
static int subject_cn(mt_rd *name, void (*cb)(void *, const char *, size_t, int), void *ctx)
{
	int found = 0;

	while (mt_rd_left(name)) {
		mt_rd set, atv, oid, val;
		uint8_t t;
		if (der_expect(name, 0x31, &set) < 0)
			return -1;
		while (mt_rd_left(&set)) {
			if (der_expect(&set, 0x30, &atv) < 0 || der_expect(&atv, 0x06, &oid) < 0 ||
			    der_next(&atv, &t, &val) < 0)
				return -1;
			/* UTF8String, PrintableString, IA5String, T61String */
			if (oid_is(&oid, oid_cn, sizeof oid_cn) && (t == 0x0c || t == 0x13 || t == 0x16 || t == 0x14)) {
				cb(ctx, (const char *)val.p, val.len, 0);
				found++;
			}
		}
	}
	return found;
}

/* extnValue of subjectAltName: GeneralNames ::= SEQUENCE OF GeneralName; dNSName is [2] IA5String. */
static int san_names(mt_rd *v, void (*cb)(void *, const char *, size_t, int), void *ctx)
{
	mt_rd seq, gn;
	uint8_t t;
	int found = 0;

	if (der_expect(v, 0x30, &seq) < 0)
		return -1;
	while (mt_rd_left(&seq)) {
		if (der_next(&seq, &t, &gn) < 0)
			return -1;
		if (t == 0x82) {
			cb(ctx, (const char *)gn.p, gn.len, 1);
			found++;
		}
	}
	return found;
}

int mt_tls_x509_names(const uint8_t *der, size_t len,
		  void (*cb)(void *ctx, const char *name, size_t n, int san), void *ctx)
{
	mt_rd r, cert, tbs, v, subject;
	uint8_t t;
	int n, found;

	mt_rd_init(&r, der, len);
	if (der_expect(&r, 0x30, &cert) < 0 || der_expect(&cert, 0x30, &tbs) < 0)
		return -1;
	if (der_next(&tbs, &t, &v) < 0)
		return -1;
	if (t == 0xa0 && der_next(&tbs, &t, &v) < 0) /* [0] version, then serialNumber */
		return -1;
	if (t != 0x02)
		return -1;
	if (der_expect(&tbs, 0x30, &v) < 0 ||   /* signature AlgorithmIdentifier */
	    der_expect(&tbs, 0x30, &v) < 0 ||   /* issuer */
	    der_expect(&tbs, 0x30, &v) < 0 ||   /* validity */
	    der_expect(&tbs, 0x30, &subject) < 0 ||
	    der_expect(&tbs, 0x30, &v) < 0)     /* subjectPublicKeyInfo */
		return -1;
	found = subject_cn(&subject, cb, ctx);
	if (found < 0)
		return -1;
	while (mt_rd_left(&tbs)) {
		mt_rd exts, ext, oid, val;
		if (der_next(&tbs, &t, &v) < 0)
			return -1;
		if (t != 0xa3) /* [1] / [2] unique identifiers */
			continue;
		if (der_expect(&v, 0x30, &exts) < 0)
			return -1;
		while (mt_rd_left(&exts)) {
			if (der_expect(&exts, 0x30, &ext) < 0 || der_expect(&ext, 0x06, &oid) < 0 ||
			    der_next(&ext, &t, &val) < 0)
				return -1;
			if (t == 0x01 && der_next(&ext, &t, &val) < 0) /* critical BOOLEAN */
				return -1;
			if (t != 0x04)
				return -1;
			if (oid_is(&oid, oid_san, sizeof oid_san)) {
				n = san_names(&val, cb, ctx);
				if (n < 0)
					return -1;
				found += n;
			}
		}
	}
	return found;
}

/* ---- server side ---- */

static void server_name_cb(void *ctx, const char *name, size_t n, int san)
{
	mt_tls_server *sv = ctx;

	(void)san;
	if (sv->nnames >= MT_X509_MAX_NAMES)
		return;
	copy_host(sv->names[sv->nnames], (const uint8_t *)name, n);
	if (sv->names[sv->nnames][0])
		sv->nnames++;
}

static int server_hello(mt_rd *m, mt_tls_server *out)
{
	mt_rd ext;

	out->hello = 1;
	out->version = mt_rd_be16(m);
	mt_rd_skip(m, 32);
	mt_rd_skip(m, mt_rd_u8(m));
	mt_rd_skip(m, 3); /* cipher_suite, legacy_compression_method */
	if (m->err || (out->version >> 8) != 3)
		return -1;
	if (mt_rd_left(m) == 0)
		return 0;
	ext = mt_rd_sub(m, mt_rd_be16(m));
	if (ext.err)
		return -1;
	while (mt_rd_left(&ext) >= 4) {
		uint16_t type = mt_rd_be16(&ext);
		mt_rd e = mt_rd_sub(&ext, mt_rd_be16(&ext));
		if (e.err)
			return -1;
		if (type == TLS_EXT_SUPPORTED_VERSIONS && mt_rd_be16(&e) >= 0x0304 && !e.err)
			out->tls13 = 1;
	}
	return 0;
}

int mt_tls_server_parse(const uint8_t *hs, size_t len, mt_tls_server *out)
{
	mt_rd r;

	memset(out, 0, sizeof(*out));
	mt_rd_init(&r, hs, len);
	while (mt_rd_left(&r) >= 4) {
		uint8_t type = mt_rd_u8(&r);
		uint32_t mlen = mt_rd_be24(&r);
		mt_rd m;
		if (!out->hello && type != TLS_HS_SERVER_HELLO)
			return -1;
		if (mt_rd_left(&r) < mlen) {
			/* The leaf certificate comes first: it may be complete before the chain is. */
			if (type == TLS_HS_CERTIFICATE && mt_rd_left(&r) >= 6) {
				mt_rd c = mt_rd_sub(&r, mt_rd_left(&r));
				uint32_t l;
				mt_rd_be24(&c);
				l = mt_rd_be24(&c);
				if (mt_rd_left(&c) >= l) {
					if (mt_tls_x509_names(c.p + c.off, l, server_name_cb, out) < 0)
						return -1;
					out->has_cert = 1;
					return 1;
				}
			}
			return 0;
		}
		m = mt_rd_sub(&r, mlen);
		if (type == TLS_HS_SERVER_HELLO) {
			if (out->hello || server_hello(&m, out) < 0)
				return -1;
			if (out->tls13)
				return 1;
		} else if (type == TLS_HS_CERTIFICATE) {
			mt_rd list = mt_rd_sub(&m, mt_rd_be24(&m));
			mt_rd leaf = mt_rd_sub(&list, mt_rd_be24(&list));
			if (leaf.err)
				return -1;
			if (mt_tls_x509_names(leaf.p, leaf.len, server_name_cb, out) < 0)
				return -1;
			out->has_cert = 1;
			return 1;
		} else if (type == 14) { /* ServerHelloDone: no certificate (anonymous or PSK) */
			return 1;
		}
	}
	return 0;
}
