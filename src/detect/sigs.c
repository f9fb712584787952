/* sigs.c - the signature files of signatures/: strict line-by-line validation at load, read-only lookups after. */
#include "detect/sigs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/json.h"

/*
 * Formats: signatures/README.md. Every line of every file is checked (UTF-8,
 * no NUL, no control character, at most MT_SIGS_MAX_LINE bytes, fields of the
 * right shape, no duplicate); a problem is reported as "FILE:LINE: reason"
 * with FILE the path as given. mt_sigs_load stops at the first problem,
 * mt_sigs_check reports them all.
 *
 * Lookups run per flow or per packet, so each kind has its own structure and
 * none allocates: domains sit in a hash table keyed by the whole entry and a
 * host is looked up once per label boundary (longest suffix first); CIDRs are
 * sorted arrays grouped by prefix length (longest first, binary search in
 * each group); agent prefixes and (set, method) pairs are hash tables; magics
 * a sorted array; ports a 65536-entry table. Nothing is written after load,
 * so one mt_sigs may be shared by any number of threads.
 */

#define DOMAIN_MAX 253   /* RFC 1035 2.3.4, as text without the trailing dot */
#define LABEL_MAX 63
#define AGENT_MAX 64     /* longest agent prefix */
#define METHOD_MAX 64
#define TOKEN_MAX 31     /* family, protocol, network names */
#define COIN_MAX 15      /* fits mt_evidence.coin and mt_sigs_magic.coin */
#define NAME_MAX_LEN 63  /* pool-ips.txt NAME */
#define PROTO_MAX 254    /* distinct protocols of ports.txt (uint8_t index, 0 = none) */

enum kind { K_DOMAINS, K_IPS, K_AGENTS, K_METHODS, K_MAGICS, K_PORTS, K_WEBMINER, K_NKINDS };

static const char *const file_names[K_NKINDS] = {
	[K_DOMAINS] = "pool-domains.txt",
	[K_IPS] = "pool-ips.txt",
	[K_AGENTS] = "miner-agents.txt",
	[K_METHODS] = "methods.txt",
	[K_MAGICS] = "p2p-magics.txt",
	[K_PORTS] = "ports.txt",
	[K_WEBMINER] = "webminer-hosts.txt",
};

/* The fixed method sets (methods.txt SET). Detectors ask by these names. */
static const char *const method_sets[] = {
	"stratum-client",          /* Stratum v1, miner -> pool */
	"stratum-server",          /* Stratum v1, pool -> miner */
	"ethereum-stratum-client", /* EthereumStratum/1.0.0 and 2.0.0, miner -> pool */
	"ethereum-stratum-server", /* EthereumStratum, pool -> miner */
	"ethproxy",                /* eth-proxy (stratum1): miner -> pool */
	"cryptonote-client",       /* CryptoNote stratum (XMRig), miner -> pool */
	"cryptonote-server",       /* CryptoNote stratum, pool -> miner */
	"getwork-http",            /* getwork over HTTP JSON-RPC */
	"getblocktemplate-http",   /* BIP 22/23 over HTTP JSON-RPC */
	"p2p-bitcoin-commands",    /* Bitcoin P2P message command names */
};
#define NSETS (sizeof method_sets / sizeof method_sets[0])

/* ---- string arena: everything a loaded mt_sigs points to ---- */

struct blk {
	struct blk *next;
	size_t used, cap;
	char data[];
};

static char *arena_dup(struct blk **a, const char *s, size_t n)
{
	struct blk *b = *a;
	char *p;

	if (!b || b->cap - b->used < n + 1) {
		size_t cap = n + 1 > 65536 ? n + 1 : 65536;
		b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->next = *a;
		b->used = 0;
		b->cap = cap;
		*a = b;
	}
	p = b->data + b->used;
	memcpy(p, s, n);
	p[n] = '\0';
	b->used += n + 1;
	return p;
}

static void arena_free(struct blk *b)
{
	while (b) {
		struct blk *n = b->next;
		free(b);
		b = n;
	}
}

/* ---- hash tables (open addressing over an entry array) ---- */

#define FNV_OFF 1469598103934665603ull
#define FNV_PRIME 1099511628211ull

static inline uint64_t fnv_byte(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV_PRIME;
}

/* Bytes hashed from the last to the first, so every suffix of a host is hashed in one pass. */
static uint64_t hash_rtl(const char *s, size_t n)
{
	uint64_t h = FNV_OFF;
	while (n--)
		h = fnv_byte(h, (unsigned char)s[n]);
	return h;
}

static uint64_t hash_ltr(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = fnv_byte(h, (unsigned char)s[i]);
	return h;
}

/* splitmix64 finaliser: FNV's low bits alone index a power-of-two table badly. */
static inline size_t slot_of(uint64_t h, size_t mask)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return (size_t)h & mask;
}

struct hent {
	uint64_t h;
	const char *key;  /* NUL-terminated, in the arena */
	const char *val;  /* coin, family ... (interned) or NULL */
	uint32_t klen;
	uint32_t line;    /* where it was defined (duplicate messages) */
	uint8_t set;      /* method set index; 0 elsewhere */
};

struct htab {
	struct hent *e;
	size_t n, ecap;
	uint32_t *slot;   /* index + 1 into e; 0 = empty */
	size_t mask;      /* nslots - 1, or 0 when no slots */
};

static const struct hent *htab_find(const struct htab *t, uint64_t h, const char *k, size_t klen, uint8_t set)
{
	size_t i;

	if (!t->slot)
		return NULL;
	for (i = slot_of(h, t->mask);; i = (i + 1) & t->mask) {
		uint32_t s = t->slot[i];
		const struct hent *e;
		if (!s)
			return NULL;
		e = &t->e[s - 1];
		if (e->h == h && e->klen == klen && e->set == set && memcmp(e->key, k, klen) == 0)
			return e;
	}
}

static int htab_rehash(struct htab *t, size_t nslots)
{
	uint32_t *ns = calloc(nslots, sizeof *ns);
	size_t mask = nslots - 1;

	if (!ns)
		return -ENOMEM;
	for (size_t k = 0; k < t->n; k++) {
		size_t i = slot_of(t->e[k].h, mask);
		while (ns[i])
			i = (i + 1) & mask;
		ns[i] = (uint32_t)(k + 1);
	}
	free(t->slot);
	t->slot = ns;
	t->mask = mask;
	return 0;
}

/* Adds e (the caller checked it is absent). Load factor stays <= 1/2. */
static int htab_add(struct htab *t, const struct hent *e)
{
	size_t i;

	if (t->n == t->ecap) {
		size_t nc = t->ecap ? t->ecap * 2 : 16;
		struct hent *ne = realloc(t->e, nc * sizeof *ne);
		if (!ne)
			return -ENOMEM;
		t->e = ne;
		t->ecap = nc;
	}
	if (!t->slot || (t->n + 1) * 2 > t->mask + 1) {
		size_t nslots = t->slot ? (t->mask + 1) * 2 : 32;
		int r;
		t->e[t->n] = *e; /* rehash below places it */
		t->n++;
		r = htab_rehash(t, nslots);
		if (r < 0)
			t->n--;
		return r;
	}
	t->e[t->n] = *e;
	for (i = slot_of(e->h, t->mask); t->slot[i]; i = (i + 1) & t->mask)
		;
	t->slot[i] = (uint32_t)(t->n + 1);
	t->n++;
	return 0;
}

static void htab_free(struct htab *t)
{
	free(t->e);
	free(t->slot);
}

/* ---- the loaded signatures ---- */

struct net4 {
	uint32_t net;
	uint8_t plen;
	uint32_t line;
	const char *coin;
};

struct net6 {
	uint64_t hi, lo;
	uint8_t plen;
	uint32_t line;
	const char *coin;
};

struct group {            /* entries [start, end) of one prefix length */
	uint8_t plen;
	uint32_t start, end;
};

struct magic_ent {
	mt_sigs_magic m;
	uint32_t line;
};

struct mt_sigs {
	struct blk *arena;
	struct htab strs;     /* interned coins, families, protocols, names */

	struct htab domains;  /* key: lower-case domain; hashed right to left */
	size_t dom_maxlen;
	struct htab webminers; /* webminer-hosts.txt, same form as domains */
	size_t web_maxlen;

	struct net4 *v4;
	size_t n4, cap4;
	struct group g4[33];
	size_t ng4;
	struct net6 *v6;
	size_t n6, cap6;
	struct group g6[129];
	size_t ng6;

	struct htab agents;   /* key: lower-case prefix; val: family */
	uint8_t agent_lens[AGENT_MAX]; /* distinct prefix lengths, longest first */
	size_t nagent_lens;

	struct htab methods;  /* key: method; set: index in method_sets */

	struct magic_ent *magics;
	size_t nmagics, capmagics;

	uint8_t *port_proto;  /* 65536 entries: 0 or 1 + index in protos */
	uint32_t *port_line;  /* during load only */
	const char *protos[PROTO_MAX];
	size_t nprotos;

	size_t count;
};

/* ---- problem reporting ---- */

struct pctx {
	mt_sigs *s;
	FILE *out;        /* check: every problem printed here */
	char *err;        /* load: the first problem */
	size_t errlen;
	int nprob;
	bool first_only;  /* load stops at the first problem */
	bool stop;        /* stop this file (entry limit, or first_only) */
	const char *path; /* the file being read, as given */
	size_t file_entries;
};

static void problem(struct pctx *c, unsigned long line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void problem(struct pctx *c, unsigned long line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->out) {
		if (line)
			fprintf(c->out, "%s:%lu: %s\n", c->path, line, msg);
		else
			fprintf(c->out, "%s: %s\n", c->path, msg);
	}
	if (c->err && c->errlen && c->nprob == 0) {
		if (line)
			snprintf(c->err, c->errlen, "%s:%lu: %s", c->path, line, msg);
		else
			snprintf(c->err, c->errlen, "%s: %s", c->path, msg);
	}
	c->nprob++;
	if (c->first_only)
		c->stop = true;
}

/* ---- small validators ---- */

static inline char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

static inline bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 (RFC 3629: no overlong form, surrogate or > U+10FFFF). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A token of [A-Za-z0-9._-], starting with a letter or digit, 1..max chars. */
static bool good_token(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || !is_alnum(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* Strict decimal: digits only, no sign, no leading zero, value <= max. */
static bool parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	unsigned long x = 0;

	if (!is_digit(*s) || (s[0] == '0' && s[1]))
		return false;
	for (; *s; s++) {
		if (!is_digit(*s))
			return false;
		x = x * 10 + (unsigned long)(*s - '0');
		if (x > max)
			return false;
	}
	*v = x;
	return true;
}

static const char *intern(struct pctx *c, const char *str)
{
	mt_sigs *s = c->s;
	size_t n = strlen(str);
	uint64_t h = hash_ltr(FNV_OFF, str, n);
	const struct hent *e = htab_find(&s->strs, h, str, n, 0);
	struct hent ne;

	if (e)
		return e->key;
	memset(&ne, 0, sizeof ne);
	ne.h = h;
	ne.klen = (uint32_t)n;
	ne.key = arena_dup(&s->arena, str, n);
	if (!ne.key || htab_add(&s->strs, &ne) < 0)
		return NULL;
	return ne.key;
}

/* Splits s in place at runs of blanks. Returns the number of fields, or max + 1 if there are more. */
static int split(char *s, char **f, int max)
{
	int n = 0;

	for (;;) {
		while (is_space(*s))
			*s++ = '\0';
		if (!*s)
			return n;
		if (n == max)
			return max + 1;
		f[n++] = s;
		while (*s && !is_space(*s))
			s++;
	}
}

static bool check_coin(struct pctx *c, unsigned long line, const char *coin)
{
	if (good_token(coin, COIN_MAX))
		return true;
	problem(c, line, "bad coin '%.40s': 1-%d letters, digits, '.', '_' or '-'", coin, COIN_MAX);
	return false;
}

static void oom(struct pctx *c, unsigned long line)
{
	problem(c, line, "out of memory");
	c->stop = true;
}

/* ---- pool-domains.txt: DOMAIN [COIN] ---- */

/* NULL if d is a valid domain entry, else why not (in why). */
static const char *check_domain(const char *d, char *why, size_t whylen)
{
	size_t n = strlen(d), lab = 0, labels = 1, i;
	bool digits_only = true;

	if (strstr(d, "://"))
		return "a domain, not a URL: remove the scheme (stratum+tcp:// ...)";
	for (i = 0; i < n; i++)
		if ((unsigned char)d[i] >= 0x80)
			return "internationalized name (U-label): write it in its A-label form (xn--...), e.g. as converted by idn2 or Python's encodings.idna";
	if (d[0] == '*')
		return "no wildcard: an entry already covers all its subdomains, write it without '*.'";
	if (strchr(d, '/'))
		return "a domain, not a URL: remove the path";
	if (strchr(d, '@'))
		return "a domain, not a URL: remove the user part";
	if (strchr(d, ':'))
		return "a domain only: remove the port (an IPv6 address belongs in pool-ips.txt)";
	if (n > DOMAIN_MAX)
		return "longer than 253 characters";
	if (d[n - 1] == '.')
		return "remove the trailing dot";
	for (i = 0; i <= n; i++) {
		char ch = d[i];
		if (ch == '.' || ch == '\0') {
			if (lab == 0)
				return "empty label";
			if (lab > LABEL_MAX)
				return "label longer than 63 characters";
			if (lab == 4 && lower(d[i - 4]) == 'x' && lower(d[i - 3]) == 'n' && d[i - 2] == '-' && d[i - 1] == '-')
				return "empty A-label after 'xn--'";
			if (d[i - 1] == '-' || d[i - lab] == '-')
				return "a label starts or ends with '-'";
			if (ch == '.') {
				labels++;
				lab = 0;
				digits_only = true;
			}
			continue;
		}
		if (!is_alnum(ch) && ch != '-') {
			snprintf(why, whylen, "character '%c' not allowed in a host name (letters, digits, '-', '.')", ch);
			return why;
		}
		if (!is_digit(ch))
			digits_only = false;
		lab++;
	}
	if (labels < 2)
		return "a single label would match a whole top-level domain";
	if (digits_only)
		return "an IP address is not a domain: put it in pool-ips.txt";
	return NULL;
}

/* ---- IDN: U-labels to A-labels (RFC 5891 4.4, Punycode RFC 3492) ---- */

#define PUNY_BASE 36u
#define PUNY_TMIN 1u
#define PUNY_TMAX 26u
#define PUNY_SKEW 38u
#define PUNY_DAMP 700u
#define PUNY_BIAS 72u
#define PUNY_N 128u

static uint32_t puny_adapt(uint32_t delta, uint32_t npoints, bool first)
{
	uint32_t k = 0;

	delta = first ? delta / PUNY_DAMP : delta / 2;
	delta += delta / npoints;
	while (delta > ((PUNY_BASE - PUNY_TMIN) * PUNY_TMAX) / 2) {
		delta /= PUNY_BASE - PUNY_TMIN;
		k += PUNY_BASE;
	}
	return k + (PUNY_BASE - PUNY_TMIN + 1) * delta / (delta + PUNY_SKEW);
}

/*
 * RFC 3492 6.3: the Punycode of code points cp[0..n) into out (cap bytes,
 * NUL-terminated). Returns the length, or -1 if it does not fit or overflows.
 */
int mt_sigs_punycode(const uint32_t *cp, size_t n, char *out, size_t cap)
{
	uint32_t code = PUNY_N, delta = 0, bias = PUNY_BIAS, h, b = 0;
	size_t w = 0, i;

	if (cap == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (cp[i] < 0x80) {
			if (w + 1 >= cap)
				return -1;
			out[w++] = (char)cp[i];
			b++;
		}
	}
	h = b;
	if (b > 0) {
		if (w + 1 >= cap)
			return -1;
		out[w++] = '-';
	}
	while (h < n) {
		uint32_t m = UINT32_MAX;
		for (i = 0; i < n; i++)
			if (cp[i] >= code && cp[i] < m)
				m = cp[i];
		if ((uint64_t)(m - code) * (h + 1) > UINT32_MAX - delta)
			return -1;
		delta += (m - code) * (h + 1);
		code = m;
		for (i = 0; i < n; i++) {
			if (cp[i] < code && ++delta == 0)
				return -1;
			if (cp[i] == code) {
				uint32_t q = delta;
				for (uint32_t k = PUNY_BASE;; k += PUNY_BASE) {
					uint32_t t = k <= bias ? PUNY_TMIN : k >= bias + PUNY_TMAX ? PUNY_TMAX : k - bias;
					uint32_t d;
					if (q < t)
						break;
					d = t + (q - t) % (PUNY_BASE - t);
					if (w + 1 >= cap)
						return -1;
					out[w++] = (char)(d < 26 ? 'a' + d : '0' + d - 26);
					q = (q - t) / (PUNY_BASE - t);
				}
				if (w + 1 >= cap)
					return -1;
				out[w++] = (char)(q < 26 ? 'a' + q : '0' + q - 26);
				bias = puny_adapt(delta, h + 1, h == b);
				delta = 0;
				h++;
			}
		}
		delta++;
		code++;
	}
	out[w] = '\0';
	return (int)w;
}

/* Simple lower-casing of the capitals of ASCII, Latin-1, Greek and Cyrillic (names are compared after it). */
static uint32_t fold(uint32_t c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7) ||
	    (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) || (c >= 0x410 && c <= 0x42f))
		return c + 0x20;
	if (c >= 0x400 && c <= 0x40f)
		return c + 0x50;
	return c;
}

/*
 * A host name with U-labels to its A-label form, lower-cased (UTF-8 is valid:
 * take_line checked it). Returns NULL or why not.
 */
static const char *to_alabels(const char *in, char *out, size_t cap)
{
	uint32_t cp[DOMAIN_MAX + 1];
	const unsigned char *p = (const unsigned char *)in;
	size_t w = 0;

	while (*p) {
		size_t n = 0;
		bool ascii = true;
		while (*p && *p != '.') {
			uint32_t c;
			size_t u = utf8_len(p, strlen((const char *)p));
			if (u == 0)
				return "invalid UTF-8";
			c = u == 1 ? p[0] : u == 2 ? (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f)
			    : u == 3 ? (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f)
			    : (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 | (uint32_t)(p[2] & 0x3f) << 6 | (p[3] & 0x3f);
			if (n >= DOMAIN_MAX)
				return "longer than 253 characters";
			cp[n++] = fold(c);
			if (c >= 0x80)
				ascii = false;
			p += u;
		}
		if (ascii) {
			if (w + n + 1 >= cap)
				return "longer than 253 characters";
			for (size_t i = 0; i < n; i++)
				out[w++] = (char)cp[i];
		} else {
			int l;
			if (w + 5 >= cap)
				return "longer than 253 characters";
			memcpy(out + w, "xn--", 4);
			w += 4;
			l = mt_sigs_punycode(cp, n, out + w, cap - w);
			if (l < 0)
				return "the A-label form is longer than 253 characters";
			w += (size_t)l;
		}
		if (*p == '.') {
			if (w + 1 >= cap)
				return "longer than 253 characters";
			out[w++] = '.';
			p++;
		}
	}
	out[w] = '\0';
	return NULL;
}

static void parse_domain(struct pctx *c, unsigned long line, char *text, enum kind k)
{
	mt_sigs *s = c->s;
	struct htab *tab = k == K_WEBMINER ? &s->webminers : &s->domains;
	size_t *maxlen = k == K_WEBMINER ? &s->web_maxlen : &s->dom_maxlen;
	char *f[3], why[96], low[DOMAIN_MAX + 1], alab[DOMAIN_MAX + 8];
	const char *reason, *coin = NULL;
	const struct hent *dup;
	struct hent e;
	int nf = split(text, f, 2);
	size_t n;

	if (nf == 0)
		return;
	if (nf > 2) {
		problem(c, line, "too many fields: expected DOMAIN [COIN]");
		return;
	}
	for (const char *q = f[0]; *q; q++) {
		if ((unsigned char)*q >= 0x80) {
			/* An internationalized name: matched in the A-label form it travels in. */
			reason = to_alabels(f[0], alab, sizeof alab);
			if (reason) {
				problem(c, line, "bad domain '%.80s': %s", f[0], reason);
				return;
			}
			f[0] = alab;
			break;
		}
	}
	reason = check_domain(f[0], why, sizeof why);
	if (reason) {
		problem(c, line, "bad domain '%.80s': %s", f[0], reason);
		return;
	}
	if (nf == 2) {
		if (!check_coin(c, line, f[1]))
			return;
		coin = intern(c, f[1]);
		if (!coin)
			return oom(c, line);
	}
	n = strlen(f[0]);
	for (size_t i = 0; i < n; i++)
		low[i] = lower(f[0][i]);
	low[n] = '\0';
	memset(&e, 0, sizeof e);
	e.h = hash_rtl(low, n);
	dup = htab_find(tab, e.h, low, n, 0);
	if (dup) {
		problem(c, line, "duplicate domain '%s' (line %u)", low, dup->line);
		return;
	}
	e.key = arena_dup(&s->arena, low, n);
	e.klen = (uint32_t)n;
	e.val = coin;
	e.line = (uint32_t)line;
	if (!e.key || htab_add(tab, &e) < 0)
		return oom(c, line);
	if (n > *maxlen)
		*maxlen = n;
	s->count++;
	c->file_entries++;
}

/* ---- pool-ips.txt: CIDR [COIN|-] [NAME ...] ---- */

static void mask_bytes(uint8_t *a, size_t nbytes, unsigned plen)
{
	for (size_t i = 0; i < nbytes; i++) {
		unsigned bits = plen > 8 * i ? plen - 8 * (unsigned)i : 0;
		if (bits >= 8)
			continue;
		a[i] &= (uint8_t)(0xff00u >> bits);
	}
}

static void parse_ip(struct pctx *c, unsigned long line, char *text)
{
	mt_sigs *s = c->s;
	char *f[2], *slash, *rest = NULL, *p;
	uint8_t a[16], m[16];
	unsigned long plen;
	const char *coin = NULL;
	int fam, nf;
	size_t alen;

	/* The NAME is the rest of the line: split off the first two fields by hand. */
	p = text;
	nf = 0;
	while (*p && nf < 2) {
		while (is_space(*p))
			p++;
		if (!*p)
			break;
		f[nf++] = p;
		while (*p && !is_space(*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	while (is_space(*p))
		p++;
	if (*p)
		rest = p;
	if (nf == 0)
		return;

	slash = strchr(f[0], '/');
	if (slash)
		*slash = '\0';
	if (strchr(f[0], ':')) {
		fam = 6;
		alen = 16;
		if (inet_pton(AF_INET6, f[0], a) != 1) {
			problem(c, line, "bad IPv6 address '%.60s'", f[0]);
			return;
		}
	} else {
		fam = 4;
		alen = 4;
		if (inet_pton(AF_INET, f[0], a) != 1) {
			problem(c, line, "bad address '%.60s': expected a.b.c.d or an IPv6 address, with an optional /len", f[0]);
			return;
		}
	}
	plen = alen * 8;
	if (slash && !parse_uint(slash + 1, alen * 8, &plen)) {
		problem(c, line, "bad prefix length '/%.20s': 1-%zu", slash + 1, alen * 8);
		return;
	}
	if (plen == 0) {
		problem(c, line, "a /0 network would match every address");
		return;
	}
	memcpy(m, a, alen);
	mask_bytes(m, alen, (unsigned)plen);
	if (memcmp(m, a, alen) != 0) {
		char net[INET6_ADDRSTRLEN];
		inet_ntop(fam == 4 ? AF_INET : AF_INET6, m, net, sizeof net);
		problem(c, line, "host bits set in '%s/%lu': the network is %s/%lu", f[0], plen, net, plen);
		return;
	}
	if (nf == 2 && strcmp(f[1], "-") != 0) {
		if (!check_coin(c, line, f[1]))
			return;
		coin = intern(c, f[1]);
		if (!coin)
			return oom(c, line);
	}
	if (rest) {
		size_t n = strlen(rest);
		if (n > NAME_MAX_LEN) {
			problem(c, line, "name longer than %d characters", NAME_MAX_LEN);
			return;
		}
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)rest[i] >= 0x80) {
				problem(c, line, "name must be ASCII");
				return;
			}
		/* The name documents the entry; lookups answer the coin only. */
	}
	if (fam == 4) {
		if (s->n4 == s->cap4) {
			size_t nc = s->cap4 ? s->cap4 * 2 : 64;
			struct net4 *nv = realloc(s->v4, nc * sizeof *nv);
			if (!nv)
				return oom(c, line);
			s->v4 = nv;
			s->cap4 = nc;
		}
		s->v4[s->n4++] = (struct net4){
			.net = ((uint32_t)a[0] << 24) | ((uint32_t)a[1] << 16) | ((uint32_t)a[2] << 8) | a[3],
			.plen = (uint8_t)plen,
			.line = (uint32_t)line,
			.coin = coin,
		};
	} else {
		uint64_t hi = 0, lo = 0;
		for (int i = 0; i < 8; i++) {
			hi = (hi << 8) | a[i];
			lo = (lo << 8) | a[8 + i];
		}
		if (s->n6 == s->cap6) {
			size_t nc = s->cap6 ? s->cap6 * 2 : 64;
			struct net6 *nv = realloc(s->v6, nc * sizeof *nv);
			if (!nv)
				return oom(c, line);
			s->v6 = nv;
			s->cap6 = nc;
		}
		s->v6[s->n6++] = (struct net6){ .hi = hi, .lo = lo, .plen = (uint8_t)plen, .line = (uint32_t)line, .coin = coin };
	}
	s->count++;
	c->file_entries++;
}

/* Longest prefix first, then by network: one group per prefix length. */
static int cmp4(const void *x, const void *y)
{
	const struct net4 *a = x, *b = y;
	if (a->plen != b->plen)
		return a->plen > b->plen ? -1 : 1;
	if (a->net != b->net)
		return a->net < b->net ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

static int cmp6(const void *x, const void *y)
{
	const struct net6 *a = x, *b = y;
	if (a->plen != b->plen)
		return a->plen > b->plen ? -1 : 1;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

/* Sorts, reports duplicates (same network and length), builds the groups. */
static void finish_ips(struct pctx *c)
{
	mt_sigs *s = c->s;
	size_t i, w;

	if (s->n4)
		qsort(s->v4, s->n4, sizeof *s->v4, cmp4);
	for (i = 0, w = 0; i < s->n4; i++) {
		if (w && s->v4[w - 1].plen == s->v4[i].plen && s->v4[w - 1].net == s->v4[i].net) {
			char a[INET_ADDRSTRLEN];
			uint32_t n = s->v4[i].net;
			uint8_t b[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
			inet_ntop(AF_INET, b, a, sizeof a);
			problem(c, s->v4[i].line, "duplicate network %s/%u (line %u)", a, s->v4[i].plen, s->v4[w - 1].line);
			s->count--;
			continue;
		}
		s->v4[w++] = s->v4[i];
	}
	s->n4 = w;
	s->ng4 = 0;
	for (i = 0; i < s->n4; i++) {
		if (!s->ng4 || s->g4[s->ng4 - 1].plen != s->v4[i].plen)
			s->g4[s->ng4++] = (struct group){ .plen = s->v4[i].plen, .start = (uint32_t)i, .end = (uint32_t)i };
		s->g4[s->ng4 - 1].end = (uint32_t)(i + 1);
	}

	if (s->n6)
		qsort(s->v6, s->n6, sizeof *s->v6, cmp6);
	for (i = 0, w = 0; i < s->n6; i++) {
		if (w && s->v6[w - 1].plen == s->v6[i].plen && s->v6[w - 1].hi == s->v6[i].hi &&
		    s->v6[w - 1].lo == s->v6[i].lo) {
			char a[INET6_ADDRSTRLEN];
			uint8_t b[16];
			for (int k = 0; k < 8; k++) {
				b[k] = (uint8_t)(s->v6[i].hi >> (56 - 8 * k));
				b[8 + k] = (uint8_t)(s->v6[i].lo >> (56 - 8 * k));
			}
			inet_ntop(AF_INET6, b, a, sizeof a);
			problem(c, s->v6[i].line, "duplicate network %s/%u (line %u)", a, s->v6[i].plen, s->v6[w - 1].line);
			s->count--;
			continue;
		}
		s->v6[w++] = s->v6[i];
	}
	s->n6 = w;
	s->ng6 = 0;
	for (i = 0; i < s->n6; i++) {
		if (!s->ng6 || s->g6[s->ng6 - 1].plen != s->v6[i].plen)
			s->g6[s->ng6++] = (struct group){ .plen = s->v6[i].plen, .start = (uint32_t)i, .end = (uint32_t)i };
		s->g6[s->ng6 - 1].end = (uint32_t)(i + 1);
	}
}

/* ---- miner-agents.txt: PREFIX FAMILY (the prefix may hold single spaces) ---- */

static void parse_agent(struct pctx *c, unsigned long line, char *text)
{
	mt_sigs *s = c->s;
	char *fam, low[AGENT_MAX + 1];
	size_t n, i;
	const struct hent *dup;
	struct hent e;

	/* FAMILY is the last field; PREFIX everything before it. */
	n = strlen(text);
	fam = text + n;
	while (fam > text && !is_space(fam[-1]))
		fam--;
	if (fam == text) {
		problem(c, line, "missing family: expected PREFIX FAMILY");
		return;
	}
	n = (size_t)(fam - text);
	while (n && is_space(text[n - 1]))
		n--;
	text[n] = '\0';
	if (!good_token(fam, TOKEN_MAX)) {
		problem(c, line, "bad family '%.40s': 1-%d letters, digits, '.', '_' or '-'", fam, TOKEN_MAX);
		return;
	}
	if (n > AGENT_MAX) {
		problem(c, line, "agent prefix longer than %d characters", AGENT_MAX);
		return;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch == '\t' || ch < 0x20 || ch > 0x7e) {
			problem(c, line, "agent prefix must be printable ASCII (spaces allowed, no tab)");
			return;
		}
		if (ch == ' ' && text[i + 1] == ' ') {
			problem(c, line, "agent prefix has two spaces in a row");
			return;
		}
		low[i] = lower((char)ch);
	}
	low[n] = '\0';
	memset(&e, 0, sizeof e);
	e.h = hash_ltr(FNV_OFF, low, n);
	dup = htab_find(&s->agents, e.h, low, n, 0);
	if (dup) {
		problem(c, line, "duplicate agent prefix '%s' (line %u)", low, dup->line);
		return;
	}
	e.key = arena_dup(&s->arena, low, n);
	e.val = intern(c, fam);
	e.klen = (uint32_t)n;
	e.line = (uint32_t)line;
	if (!e.key || !e.val || htab_add(&s->agents, &e) < 0)
		return oom(c, line);
	/* Keep the distinct lengths sorted longest first. */
	for (i = 0; i < s->nagent_lens && s->agent_lens[i] > n; i++)
		;
	if (i == s->nagent_lens || s->agent_lens[i] != n) {
		memmove(&s->agent_lens[i + 1], &s->agent_lens[i], s->nagent_lens - i);
		s->agent_lens[i] = (uint8_t)n;
		s->nagent_lens++;
	}
	s->count++;
	c->file_entries++;
}

/* ---- methods.txt: SET METHOD ---- */

static int set_index(const char *set)
{
	for (size_t i = 0; i < NSETS; i++)
		if (strcmp(set, method_sets[i]) == 0)
			return (int)i;
	return -1;
}

static void parse_method(struct pctx *c, unsigned long line, char *text)
{
	mt_sigs *s = c->s;
	char *f[3];
	int nf = split(text, f, 2), set;
	size_t n;
	const struct hent *dup;
	struct hent e;

	if (nf != 2) {
		problem(c, line, "%s: expected SET METHOD", nf < 2 ? "missing field" : "too many fields");
		return;
	}
	set = set_index(f[0]);
	if (set < 0) {
		char known[512];
		size_t k = 0;
		for (size_t i = 0; i < NSETS && k < sizeof known; i++)
			k += (size_t)snprintf(known + k, sizeof known - k, "%s%s", i ? ", " : "", method_sets[i]);
		problem(c, line, "unknown method set '%.40s' (known: %s)", f[0], known);
		return;
	}
	n = strlen(f[1]);
	if (n > METHOD_MAX) {
		problem(c, line, "method longer than %d characters", METHOD_MAX);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)f[1][i] < 0x21 || (unsigned char)f[1][i] > 0x7e) {
			problem(c, line, "method must be printable ASCII");
			return;
		}
	memset(&e, 0, sizeof e);
	e.h = hash_ltr(FNV_OFF ^ (uint64_t)set, f[1], n);
	e.set = (uint8_t)set;
	dup = htab_find(&s->methods, e.h, f[1], n, e.set);
	if (dup) {
		problem(c, line, "duplicate method '%s %s' (line %u)", method_sets[set], f[1], dup->line);
		return;
	}
	e.key = arena_dup(&s->arena, f[1], n);
	e.klen = (uint32_t)n;
	e.line = (uint32_t)line;
	if (!e.key || htab_add(&s->methods, &e) < 0)
		return oom(c, line);
	s->count++;
	c->file_entries++;
}

/* ---- p2p-magics.txt: HEX NETWORK COIN ---- */

static void parse_magic(struct pctx *c, unsigned long line, char *text)
{
	mt_sigs *s = c->s;
	char *f[4];
	int nf = split(text, f, 3);
	uint32_t v = 0;

	if (nf != 3) {
		problem(c, line, "%s: expected HEX NETWORK COIN", nf < 3 ? "missing field" : "too many fields");
		return;
	}
	if (strlen(f[0]) != 8) {
		problem(c, line, "bad magic '%.20s': exactly 8 hex digits, as the bytes appear on the wire (f9beb4d9)", f[0]);
		return;
	}
	for (int i = 0; i < 8; i++) {
		int d = mt_json_hexval((uint8_t)f[0][i]);
		if (d < 0) {
			problem(c, line, "bad magic '%.20s': exactly 8 hex digits, as the bytes appear on the wire (f9beb4d9)", f[0]);
			return;
		}
		v = (v << 4) | (uint32_t)d;
	}
	if (!good_token(f[1], TOKEN_MAX)) {
		problem(c, line, "bad network '%.40s': 1-%d letters, digits, '.', '_' or '-'", f[1], TOKEN_MAX);
		return;
	}
	if (!check_coin(c, line, f[2]))
		return;
	if (s->nmagics == s->capmagics) {
		size_t nc = s->capmagics ? s->capmagics * 2 : 32;
		struct magic_ent *nm = realloc(s->magics, nc * sizeof *nm);
		if (!nm)
			return oom(c, line);
		s->magics = nm;
		s->capmagics = nc;
	}
	memset(&s->magics[s->nmagics], 0, sizeof s->magics[0]);
	s->magics[s->nmagics].m.magic = v;
	memcpy(s->magics[s->nmagics].m.network, f[1], strlen(f[1]) + 1);
	memcpy(s->magics[s->nmagics].m.coin, f[2], strlen(f[2]) + 1);
	s->magics[s->nmagics].line = (uint32_t)line;
	s->nmagics++;
	s->count++;
	c->file_entries++;
}

static int cmp_magic(const void *x, const void *y)
{
	const struct magic_ent *a = x, *b = y;
	if (a->m.magic != b->m.magic)
		return a->m.magic < b->m.magic ? -1 : 1;
	return a->line < b->line ? -1 : a->line > b->line;
}

static void finish_magics(struct pctx *c)
{
	mt_sigs *s = c->s;
	size_t i, w;

	if (s->nmagics)
		qsort(s->magics, s->nmagics, sizeof *s->magics, cmp_magic);
	for (i = 0, w = 0; i < s->nmagics; i++) {
		if (w && s->magics[w - 1].m.magic == s->magics[i].m.magic) {
			problem(c, s->magics[i].line, "duplicate magic %08x (line %u, %s)", s->magics[i].m.magic,
				s->magics[w - 1].line, s->magics[w - 1].m.network);
			s->count--;
			continue;
		}
		s->magics[w++] = s->magics[i];
	}
	s->nmagics = w;
}

/* ---- ports.txt: PORT PROTO ---- */

static void parse_port(struct pctx *c, unsigned long line, char *text)
{
	mt_sigs *s = c->s;
	char *f[3];
	int nf = split(text, f, 2);
	unsigned long port;
	size_t k;

	if (nf != 2) {
		problem(c, line, "%s: expected PORT PROTO", nf < 2 ? "missing field" : "too many fields");
		return;
	}
	if (!parse_uint(f[0], 65535, &port) || port == 0) {
		problem(c, line, "bad port '%.20s': 1-65535", f[0]);
		return;
	}
	if (!good_token(f[1], TOKEN_MAX)) {
		problem(c, line, "bad protocol '%.40s': 1-%d letters, digits, '.', '_' or '-'", f[1], TOKEN_MAX);
		return;
	}
	if (!s->port_proto) {
		s->port_proto = calloc(65536, sizeof *s->port_proto);
		s->port_line = calloc(65536, sizeof *s->port_line);
		if (!s->port_proto || !s->port_line)
			return oom(c, line);
	}
	if (s->port_proto[port]) {
		problem(c, line, "port %lu already listed (line %u): one protocol per port", port, s->port_line[port]);
		return;
	}
	for (k = 0; k < s->nprotos && strcmp(s->protos[k], f[1]) != 0; k++)
		;
	if (k == s->nprotos) {
		if (s->nprotos == PROTO_MAX) {
			problem(c, line, "more than %d distinct protocols", PROTO_MAX);
			return;
		}
		s->protos[k] = intern(c, f[1]);
		if (!s->protos[k])
			return oom(c, line);
		s->nprotos++;
	}
	s->port_proto[port] = (uint8_t)(k + 1);
	s->port_line[port] = (uint32_t)line;
	s->count++;
	c->file_entries++;
}

/* ---- reading a file ---- */

/* One raw line (no '\n'): checks it, strips comment and blanks, parses the entry. */
static void take_line(struct pctx *c, enum kind k, char *line, size_t len, unsigned long lineno)
{
	size_t i, u;
	char *p, *end;

	if (lineno == 1 && len >= 3 && (unsigned char)line[0] == 0xef && (unsigned char)line[1] == 0xbb &&
	    (unsigned char)line[2] == 0xbf) {
		line += 3; /* a UTF-8 byte order mark */
		len -= 3;
	}
	if (len && line[len - 1] == '\r')
		len--;
	if (len > MT_SIGS_MAX_LINE) {
		problem(c, lineno, "line longer than %d bytes", MT_SIGS_MAX_LINE);
		return;
	}
	if (memchr(line, '\0', len)) {
		problem(c, lineno, "NUL byte (a binary file?)");
		return;
	}
	for (i = 0; i < len; i += u) {
		unsigned char ch = (unsigned char)line[i];
		u = utf8_len((const unsigned char *)line + i, len - i);
		if (!u) {
			problem(c, lineno, "invalid UTF-8");
			return;
		}
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			problem(c, lineno, "control character 0x%02x", ch);
			return;
		}
	}
	line[len] = '\0';
	p = strchr(line, '#');
	if (p)
		*p = '\0';
	p = line;
	while (is_space(*p))
		p++;
	end = p + strlen(p);
	while (end > p && is_space(end[-1]))
		*--end = '\0';
	if (!*p)
		return;
	if (c->file_entries >= MT_SIGS_MAX_ENTRIES) {
		problem(c, lineno, "too many entries (limit %d per file)", MT_SIGS_MAX_ENTRIES);
		c->stop = true;
		return;
	}
	if (k != K_DOMAINS && k != K_WEBMINER)
		for (char *q = p; *q; q++)
			if ((unsigned char)*q >= 0x80) {
				problem(c, lineno, "non-ASCII character outside a comment");
				return;
			}
	switch (k) {
	case K_DOMAINS: parse_domain(c, lineno, p, k); break;
	case K_WEBMINER: parse_domain(c, lineno, p, k); break;
	case K_IPS: parse_ip(c, lineno, p); break;
	case K_AGENTS: parse_agent(c, lineno, p); break;
	case K_METHODS: parse_method(c, lineno, p); break;
	case K_MAGICS: parse_magic(c, lineno, p); break;
	case K_PORTS: parse_port(c, lineno, p); break;
	default: break;
	}
}

static void read_path(struct pctx *c, enum kind k, const char *path)
{
	char buf[16384];
	/* +3: a line of MT_SIGS_MAX_LINE bytes may follow a BOM and end in '\r'; one more byte means too long. */
	char line[MT_SIGS_MAX_LINE + 5] = "";
	size_t ll = 0;
	unsigned long lineno = 1;
	bool too_long = false, any = false;
	struct stat st;
	int fd;

	/* O_NONBLOCK: a FIFO planted in the folder must not hang the load; fstat rejects it. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno != ENOENT)
			problem(c, 0, "cannot open: %s", strerror(errno));
		return; /* a missing file is an empty list */
	}
	if (fstat(fd, &st) < 0) {
		problem(c, 0, "cannot stat: %s", strerror(errno));
		close(fd);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		problem(c, 0, "not a regular file");
		close(fd);
		return;
	}
	while (!c->stop) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			problem(c, 0, "read error: %s", strerror(errno));
			break;
		}
		if (r == 0)
			break;
		for (ssize_t i = 0; i < r && !c->stop; i++) {
			char ch = buf[i];
			any = true;
			if (ch == '\n') {
				if (too_long)
					problem(c, lineno, "line longer than %d bytes", MT_SIGS_MAX_LINE);
				else
					take_line(c, k, line, ll, lineno);
				lineno++;
				ll = 0;
				too_long = false;
				any = false;
				continue;
			}
			if (too_long)
				continue;
			if (ll == sizeof line - 1) {
				too_long = true;
				continue;
			}
			line[ll++] = ch;
		}
	}
	if (any && !c->stop) { /* a last line without '\n' (a truncated file) */
		if (too_long)
			problem(c, lineno, "line longer than %d bytes", MT_SIGS_MAX_LINE);
		else
			take_line(c, k, line, ll, lineno);
	}
	close(fd);
	if (k == K_IPS)
		finish_ips(c);
	else if (k == K_MAGICS)
		finish_magics(c);
}

static void read_file(struct pctx *c, enum kind k, const char *dir)
{
	char path[4096];
	size_t dl = strlen(dir);

	c->stop = c->first_only && c->nprob;
	c->file_entries = 0;
	if (c->stop)
		return;
	snprintf(path, sizeof path, "%s%s%s", dir, (dl && dir[dl - 1] == '/') ? "" : "/", file_names[k]);
	c->path = path;
	read_path(c, k, path);
	c->path = NULL;
}

void mt_sigs_free(mt_sigs *s)
{
	if (!s)
		return;
	htab_free(&s->strs);
	htab_free(&s->domains);
	htab_free(&s->webminers);
	htab_free(&s->agents);
	htab_free(&s->methods);
	free(s->v4);
	free(s->v6);
	free(s->magics);
	free(s->port_proto);
	free(s->port_line);
	arena_free(s->arena);
	free(s);
}

static mt_sigs *load(const char *dir, struct pctx *c)
{
	struct stat st;
	mt_sigs *s;

	c->path = dir ? dir : "(null)";
	if (!dir || !*dir) {
		problem(c, 0, "no signature folder given");
		return NULL;
	}
	if (stat(dir, &st) < 0) {
		problem(c, 0, "cannot open the signature folder: %s", strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		problem(c, 0, "not a folder");
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (!s) {
		problem(c, 0, "out of memory");
		return NULL;
	}
	c->s = s;
	for (int k = 0; k < K_NKINDS; k++)
		read_file(c, (enum kind)k, dir);
	free(s->port_line);
	s->port_line = NULL;
	return s;
}

mt_sigs *mt_sigs_load(const char *dir, char *err, size_t errlen)
{
	struct pctx c;
	mt_sigs *s;

	memset(&c, 0, sizeof c);
	c.err = err;
	c.errlen = errlen;
	c.first_only = true;
	if (err && errlen)
		err[0] = '\0';
	s = load(dir, &c);
	if (c.nprob) {
		mt_sigs_free(s);
		return NULL;
	}
	return s;
}

int mt_sigs_check(const char *dir, FILE *out)
{
	struct pctx c;

	memset(&c, 0, sizeof c);
	c.out = out;
	mt_sigs_free(load(dir, &c));
	return c.nprob;
}

size_t mt_sigs_count(const mt_sigs *s)
{
	return s ? s->count : 0;
}

/* ---- lookups (read-only; no allocation) ---- */

static const char *domain_lookup(const struct htab *tab, size_t maxlen, const char *host, size_t len,
				 const char **coin);

const char *mt_sigs_pool_domain(const mt_sigs *s, const char *host, size_t len, const char **coin)
{
	if (coin)
		*coin = "";
	if (!s)
		return NULL;
	return domain_lookup(&s->domains, s->dom_maxlen, host, len, coin);
}

const char *mt_sigs_webminer_host(const mt_sigs *s, const char *host, size_t len, const char **coin)
{
	if (coin)
		*coin = "";
	if (!s)
		return NULL;
	return domain_lookup(&s->webminers, s->web_maxlen, host, len, coin);
}

static const char *domain_lookup(const struct htab *tab, size_t maxlen, const char *host, size_t len,
				 const char **coin)
{
	char buf[DOMAIN_MAX];
	uint16_t start[DOMAIN_MAX];
	uint64_t hs[DOMAIN_MAX];
	size_t w, n, ncand = 0;
	uint64_t h = FNV_OFF;

	if (coin)
		*coin = "";
	if (!host || !tab->n)
		return NULL;
	if (len && host[len - 1] == '.')
		len--;
	if (len == 0)
		return NULL;
	/* An entry is at most 253 bytes: only the last 253 bytes of the host can match. */
	w = len > DOMAIN_MAX ? len - DOMAIN_MAX : 0;
	n = len - w;
	for (size_t i = 0; i < n; i++)
		buf[i] = lower(host[w + i]);
	/* Right to left: at each label start, the hash of the suffix from there. */
	for (size_t j = n; j-- > 0;) {
		h = fnv_byte(h, (unsigned char)buf[j]);
		if (buf[j] == '.')
			continue;
		if (j == 0 ? (w == 0 || host[w - 1] == '.') : buf[j - 1] == '.') {
			if (n - j > maxlen)
				break;
			start[ncand] = (uint16_t)j;
			hs[ncand] = h;
			ncand++;
		}
	}
	/* The longest suffix (the leftmost start) first. */
	while (ncand--) {
		size_t j = start[ncand];
		const struct hent *e = htab_find(tab, hs[ncand], buf + j, n - j, 0);
		if (e) {
			if (coin)
				*coin = e->val ? e->val : "";
			return e->key;
		}
	}
	return NULL;
}

int mt_sigs_pool_ip(const mt_sigs *s, int ipver, const uint8_t *addr, const char **coin)
{
	if (coin)
		*coin = "";
	if (!s || !addr)
		return 0;
	if (ipver == 4) {
		uint32_t a = ((uint32_t)addr[0] << 24) | ((uint32_t)addr[1] << 16) | ((uint32_t)addr[2] << 8) | addr[3];
		for (size_t g = 0; g < s->ng4; g++) {
			const struct group *gr = &s->g4[g];
			uint32_t key = gr->plen == 32 ? a : a & ~(0xffffffffu >> gr->plen);
			size_t lo = gr->start, hi = gr->end;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (s->v4[mid].net < key)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < gr->end && s->v4[lo].net == key) {
				if (coin)
					*coin = s->v4[lo].coin ? s->v4[lo].coin : "";
				return 1;
			}
		}
		return 0;
	}
	if (ipver == 6) {
		uint64_t ah = 0, al = 0;
		for (int i = 0; i < 8; i++) {
			ah = (ah << 8) | addr[i];
			al = (al << 8) | addr[8 + i];
		}
		for (size_t g = 0; g < s->ng6; g++) {
			const struct group *gr = &s->g6[g];
			unsigned p = gr->plen;
			uint64_t kh = p >= 64 ? ah : (p == 0 ? 0 : ah & ~(~0ull >> p));
			uint64_t kl = p >= 128 ? al : (p <= 64 ? 0 : al & ~(~0ull >> (p - 64)));
			size_t lo = gr->start, hi = gr->end;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				const struct net6 *e = &s->v6[mid];
				if (e->hi < kh || (e->hi == kh && e->lo < kl))
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < gr->end && s->v6[lo].hi == kh && s->v6[lo].lo == kl) {
				if (coin)
					*coin = s->v6[lo].coin ? s->v6[lo].coin : "";
				return 1;
			}
		}
	}
	return 0;
}

const char *mt_sigs_agent(const mt_sigs *s, const char *agent, size_t len)
{
	char buf[AGENT_MAX];
	size_t n;

	if (!s || !agent || !s->agents.n)
		return NULL;
	n = len < AGENT_MAX ? len : AGENT_MAX;
	for (size_t i = 0; i < n; i++)
		buf[i] = lower(agent[i]);
	for (size_t i = 0; i < s->nagent_lens; i++) {
		size_t l = s->agent_lens[i];
		const struct hent *e;
		if (l > n)
			continue;
		e = htab_find(&s->agents, hash_ltr(FNV_OFF, buf, l), buf, l, 0);
		if (e)
			return e->val;
	}
	return NULL;
}

int mt_sigs_method(const mt_sigs *s, const char *set, const char *method, size_t len)
{
	int k;

	if (!s || !set || !method || len > METHOD_MAX)
		return 0;
	k = set_index(set);
	if (k < 0)
		return 0;
	return htab_find(&s->methods, hash_ltr(FNV_OFF ^ (uint64_t)k, method, len), method, len, (uint8_t)k) != NULL;
}

const mt_sigs_magic *mt_sigs_p2p_magic(const mt_sigs *s, uint32_t magic)
{
	size_t lo = 0, hi;

	if (!s)
		return NULL;
	hi = s->nmagics;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->magics[mid].m.magic < magic)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->nmagics && s->magics[lo].m.magic == magic)
		return &s->magics[lo].m;
	return NULL;
}

const char *mt_sigs_port(const mt_sigs *s, uint16_t port)
{
	if (!s || !s->port_proto || !s->port_proto[port])
		return NULL;
	return s->protos[s->port_proto[port] - 1];
}
