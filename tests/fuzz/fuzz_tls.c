/* fuzz_tls.c - fuzz target: TLS record flattening, ClientHello, ServerHello/Certificate and X.509 name parsing (detect/tlsparse.h). */
/*
 * Input: a mode byte, then the bytes.
 *   mode % 3 == 0: a client's TLS stream (records): flatten, parse the ClientHello
 *   mode % 3 == 1: a server's TLS stream: flatten, parse ServerHello and Certificate
 *   mode % 3 == 2: a DER certificate: its names
 * Checks: results are in range; names are lower-case printable ASCII of at
 * most MT_TLS_NAME_MAX bytes; at most MT_X509_MAX_NAMES names are kept;
 * flattening writes no more than it was given.
 */
#include "fuzz.h"

#include "detect/tlsparse.h"

static void check_host(const char *h)
{
	size_t l = strnlen(h, MT_TLS_NAME_MAX + 1);

	MT_FUZZ_CHECK(l <= MT_TLS_NAME_MAX);
	for (size_t i = 0; i < l; i++)
		MT_FUZZ_CHECK(h[i] > 0x20 && h[i] < 0x7f && !(h[i] >= 'A' && h[i] <= 'Z'));
}

static void on_name(void *ctx, const char *name, size_t n, int san)
{
	size_t *total = ctx;

	(void)name;
	MT_FUZZ_CHECK(san == 0 || san == 1);
	MT_FUZZ_CHECK(n < (1u << 24));
	(*total)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t hs[MT_TLS_HS_MAX];
	static mt_tls_server sv;
	mt_tls_client_hello ch;
	uint8_t *copy;
	int mode, n, r, complete;
	size_t len;

	if (size < 1)
		return 0;
	mode = data[0] % 3;
	len = size - 1;
	copy = malloc(len ? len : 1); /* exact size: ASan sees any over-read */
	if (!copy)
		return 0;
	memcpy(copy, data + 1, len);
	if (mode == 2) {
		size_t total = 0;
		n = mt_tls_x509_names(copy, len, on_name, &total);
		MT_FUZZ_CHECK(n == -1 || (size_t)n == total);
		free(copy);
		return 0;
	}
	n = mt_tls_flatten(copy, len, hs, sizeof hs, &complete);
	MT_FUZZ_CHECK(n >= -1 && (n < 0 || (size_t)n <= len));
	MT_FUZZ_CHECK(complete == 0 || complete == 1);
	if (n >= 0) {
		if (mode == 0) {
			r = mt_tls_client_hello_parse(hs, (size_t)n, &ch);
			MT_FUZZ_CHECK(r >= -1 && r <= 1);
			check_host(ch.sni);
			MT_FUZZ_CHECK(!ch.alpn_http || ch.alpn_any);
		} else {
			r = mt_tls_server_parse(hs, (size_t)n, &sv);
			MT_FUZZ_CHECK(r >= -1 && r <= 1);
			MT_FUZZ_CHECK(sv.nnames <= MT_X509_MAX_NAMES);
			for (uint32_t i = 0; i < sv.nnames; i++)
				check_host(sv.names[i]);
			MT_FUZZ_CHECK(!sv.has_cert || sv.hello);
		}
	}
	free(copy);
	return 0;
}
