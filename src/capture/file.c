/* file.c - offline packet source: pcap and pcapng files (and stdin) read through libpcap. */
#include "capture/capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
 * stdio buffer of a capture file: glibc's default is st_blksize (4 KiB), one
 * read(2) per 4 KiB, 30,000 system calls for a 120 MB capture.
 */
#define FILE_BUF_SIZE (1u << 20)

/* Packets per pcap_dispatch call: the stop flag and the budget are looked at between calls. */
#define DISPATCH_CHUNK 4096

/* Bytes of frame copies a batch holds (a larger frame is handed over alone, uncopied). */
#define BATCH_BYTES (64u << 10)

struct mt_capture {
	pcap_t *pcap;
	int linktype;
	/* during mt_capture_run: the callback and its budget */
	mt_capture_fn fn;
	void *fn_ctx;
	uint64_t *budget;
	int linktype_mapped;
	/* mt_capture_run_batch: copies of the frames read since the last hand-over */
	mt_capture_batch_fn bfn;
	mt_frame bfr[MT_CAPTURE_BATCH];
	uint32_t bn, bused;
	uint8_t *bbuf;
	int ahead; /* a regular file: reading ahead never waits for input */
	char *fbuf; /* the stdio buffer of the file (glibc ignores the size when setvbuf allocates) */
	volatile sig_atomic_t stop;
	char err[PCAP_ERRBUF_SIZE + 64];
};

/* Copies libpcap's message, dropping a trailing newline. */
static void set_err(char *dst, size_t cap, const char *msg)
{
	size_t n;

	if (!cap)
		return;
	snprintf(dst, cap, "%s", msg);
	n = strlen(dst);
	while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == '\r'))
		dst[--n] = '\0';
}

/*
 * pcapng (draft-ietf-opsawg-pcapng): counts the Interface Description Blocks
 * before the first packet block by walking block headers only. libpcap keeps
 * an entry per interface; a file declaring a million of them is a trap, not a
 * capture. Returns 0, or -1 with a reason in err. Not regular files (stdin,
 * pipes) are not walked.
 */
static int pcapng_precheck(const char *path, char *err, size_t errlen)
{
	FILE *fp;
	uint8_t h[12];
	uint32_t nif = 0, blocks = 0;
	int le, rc = 0;
	struct stat st;

	/* Only regular files: reading from a pipe or FIFO would eat the capture. */
	if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    !(fp = fopen(path, "rb")))
		return 0;
	if (fread(h, 1, 12, fp) != 12 || !(h[0] == 0x0A && h[1] == 0x0D && h[2] == 0x0D && h[3] == 0x0A)) {
		fclose(fp);
		return 0;
	}
	le = h[8] == 0x4D; /* byte-order magic 1A2B3C4D as written */
	rewind(fp);
	while (blocks++ < 10u * MT_CAPTURE_MAX_IFACES && fread(h, 1, 8, fp) == 8) {
		uint32_t type = le ? (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24
				   : (uint32_t)h[3] | (uint32_t)h[2] << 8 | (uint32_t)h[1] << 16 | (uint32_t)h[0] << 24;
		uint32_t len = le ? (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24
				  : (uint32_t)h[7] | (uint32_t)h[6] << 8 | (uint32_t)h[5] << 16 | (uint32_t)h[4] << 24;
		if (type == 3 || type == 6 || type == 2)
			break; /* the first packet: libpcap checks the rest as it reads */
		if (type == 1 && ++nif > MT_CAPTURE_MAX_IFACES) {
			snprintf(err, errlen, "pcapng file declares more than %d interfaces", MT_CAPTURE_MAX_IFACES);
			rc = -1;
			break;
		}
		if (len < 12 || fseek(fp, (long)len - 8, SEEK_CUR) != 0)
			break; /* libpcap reports what is wrong with it */
	}
	fclose(fp);
	return rc;
}

mt_capture *mt_capture_open_file(const char *path, const char *bpf, char *err,
				 size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	mt_capture *c;

	ebuf[0] = '\0';
	if (pcapng_precheck(path, err, errlen) < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		set_err(err, errlen, strerror(ENOMEM));
		return NULL;
	}
	if (strcmp(path, "-") != 0) {
		/* Opened here for a larger stdio buffer; libpcap closes fp (pcap_close). */
		FILE *fp = fopen(path, "rb");

		if (!fp) {
			set_err(err, errlen, strerror(errno));
			free(c);
			return NULL;
		}
		c->fbuf = malloc(FILE_BUF_SIZE);
		if (c->fbuf && setvbuf(fp, c->fbuf, _IOFBF, FILE_BUF_SIZE) != 0) {
			free(c->fbuf); /* not used: the default buffer stays */
			c->fbuf = NULL;
		}
		c->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
		if (!c->pcap)
			fclose(fp); /* before its buffer goes (below) */
	} else {
		c->pcap = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	}
	if (!c->pcap) {
		/* libpcap says "unknown file format" for a file that is not a capture. */
		set_err(err, errlen, ebuf[0] ? ebuf : "cannot open");
		free(c->fbuf);
		free(c);
		return NULL;
	}
	c->linktype = pcap_datalink(c->pcap);
	{
		FILE *fp = pcap_file(c->pcap);
		struct stat fst;

		c->ahead = fp && fstat(fileno(fp), &fst) == 0 && S_ISREG(fst.st_mode);
	}
	if (bpf && *bpf) {
		if (pcap_compile(c->pcap, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			char m[PCAP_ERRBUF_SIZE + 64];
			snprintf(m, sizeof(m), "bad filter: %s", pcap_geterr(c->pcap));
			set_err(err, errlen, m);
			goto err;
		}
		if (pcap_setfilter(c->pcap, &prog) < 0) {
			set_err(err, errlen, pcap_geterr(c->pcap));
			pcap_freecode(&prog);
			goto err;
		}
		pcap_freecode(&prog);
	}
	return c;
err:
	pcap_close(c->pcap);
	free(c->fbuf);
	free(c);
	return NULL;
}

int mt_capture_linktype(const mt_capture *c)
{
	/* pcap_datalink gives DLT_ values; the ones that differ from LINKTYPE_ are mapped. */
	switch (c->linktype) {
	case DLT_RAW:
		return 101; /* DLT_RAW is 12 or 14 on some platforms */
	default:
		return c->linktype;
	}
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	mt_capture *c = (mt_capture *)user;
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;

	if (h->ts.tv_sec < 0)
		ts = 0;
	c->fn(c->fn_ctx, c->linktype_mapped, ts, data, h->caplen, h->len < h->caplen ? h->caplen : h->len);
	if (c->budget)
		(*c->budget)--;
}

static void batch_flush(mt_capture *c)
{
	if (c->bn)
		c->bfn(c->fn_ctx, c->linktype_mapped, c->bfr, c->bn);
	c->bn = 0;
	c->bused = 0;
}

/* libpcap reuses its buffer for the next frame: a batch holds copies. */
static void on_packet_batch(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	mt_capture *c = (mt_capture *)user;
	mt_frame *f;
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
	uint32_t len = h->caplen;

	if (h->ts.tv_sec < 0)
		ts = 0;
	if (c->budget)
		(*c->budget)--;
	if (len > BATCH_BYTES - c->bused)
		batch_flush(c);
	if (len > BATCH_BYTES) {
		mt_frame one = { data, ts, h->caplen, h->len < h->caplen ? h->caplen : h->len };

		c->bfn(c->fn_ctx, c->linktype_mapped, &one, 1);
		return;
	}
	f = &c->bfr[c->bn++];
	memcpy(c->bbuf + c->bused, data, len);
	f->data = c->bbuf + c->bused;
	f->ts_us = ts;
	f->cap_len = h->caplen;
	f->wire_len = h->len < h->caplen ? h->caplen : h->len;
	c->bused += (len + 7u) & ~7u; /* BATCH_BYTES is a multiple of 8: no overflow */
	if (c->bused > BATCH_BYTES)
		c->bused = BATCH_BYTES;
	/* A pipe's next frame may be long in coming: this one must not wait for it. */
	if (c->bn == MT_CAPTURE_BATCH || !c->ahead)
		batch_flush(c);
}

/*
 * pcap_dispatch with a callback rather than a pcap_next_ex loop: libpcap's
 * read loop runs once per DISPATCH_CHUNK packets instead of once per packet
 * (pcap_next_ex is a one-packet pcap_dispatch plus a copy of the header).
 * The budget is counted in the callback, so packets handed over before a
 * read error are counted too; a partial batch is handed over before return.
 */
static int run_loop(mt_capture *c, pcap_handler h, uint64_t *budget)
{
	int rc;

	c->budget = budget;
	c->linktype_mapped = mt_capture_linktype(c);
	for (;;) {
		int cnt = DISPATCH_CHUNK;

		if (c->stop)
			return MT_CAPTURE_STOPPED;
		if (budget && *budget == 0)
			return MT_CAPTURE_COUNT;
		if (budget && *budget < (uint64_t)cnt)
			cnt = (int)*budget;
		rc = pcap_dispatch(c->pcap, cnt, h, (u_char *)c);
		if (c->bfn)
			batch_flush(c);
		if (rc > 0)
			continue;
		if (rc == 0)
			return MT_CAPTURE_EOF; /* a savefile gives 0 only at its end */
		if (rc == PCAP_ERROR_BREAK)
			continue; /* pcap_breakloop: c->stop says so at the top */
		set_err(c->err, sizeof(c->err), pcap_geterr(c->pcap));
		/* libpcap reports a file that ends inside a record as "truncated ...". */
		if (strstr(c->err, "truncated"))
			return MT_CAPTURE_TRUNCATED;
		return MT_CAPTURE_ERROR;
	}
}

int mt_capture_run(mt_capture *c, mt_capture_fn fn, void *ctx, uint64_t *budget)
{
	c->fn = fn;
	c->bfn = NULL;
	c->fn_ctx = ctx;
	return run_loop(c, on_packet, budget);
}

int mt_capture_run_batch(mt_capture *c, mt_capture_batch_fn fn, void *ctx, uint64_t *budget)
{
	if (!c->bbuf && !(c->bbuf = malloc(BATCH_BYTES))) {
		set_err(c->err, sizeof(c->err), strerror(ENOMEM));
		return MT_CAPTURE_ERROR;
	}
	c->fn = NULL;
	c->bfn = fn;
	c->fn_ctx = ctx;
	c->bn = c->bused = 0;
	return run_loop(c, on_packet_batch, budget);
}

void mt_capture_stop(mt_capture *c)
{
	c->stop = 1;
	pcap_breakloop(c->pcap);
}

const char *mt_capture_error(const mt_capture *c)
{
	return c->err;
}

void mt_capture_close(mt_capture *c)
{
	if (!c)
		return;
	if (c->pcap)
		pcap_close(c->pcap); /* closes the file, which uses fbuf */
	free(c->fbuf);
	free(c->bbuf);
	free(c);
}
