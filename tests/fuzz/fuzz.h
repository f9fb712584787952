/* fuzz.h - what every fuzz target shares: the libFuzzer entry points, a bounded input reader, checks, an in-memory file. */
#ifndef MT_FUZZ_H
#define MT_FUZZ_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* memfd_create */
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * libFuzzer's interface (https://llvm.org/docs/LibFuzzer.html). The same
 * targets link with replay.c under gcc, which calls them over saved inputs.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * A broken invariant of the code under test. abort() makes libFuzzer (and
 * the replay runner, through the test harness) report it with the input,
 * exactly as a sanitizer finding would be.
 */
#define MT_FUZZ_CHECK(cond)                                                         \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, \
				__LINE__, #cond);                                   \
			abort();                                                    \
		}                                                                   \
	} while (0)

/*
 * A cursor over the fuzzer's bytes. Reads past the end give zeros and set
 * `end`, so a harness never has to treat a short input specially: a cut
 * input decodes to the same prefix plus a tail of zeros.
 */
typedef struct mt_fuzz_in {
	const uint8_t *p;
	size_t n;
	size_t off;
	int end;
} mt_fuzz_in;

static inline void mt_fuzz_in_init(mt_fuzz_in *in, const uint8_t *p, size_t n)
{
	in->p = p;
	in->n = n;
	in->off = 0;
	in->end = 0;
}

static inline size_t mt_fuzz_left(const mt_fuzz_in *in)
{
	return in->n - in->off;
}

static inline uint8_t mt_fuzz_u8(mt_fuzz_in *in)
{
	if (in->n - in->off < 1) {
		in->end = 1;
		return 0;
	}
	return in->p[in->off++];
}

/* Big-endian, like the wire formats the seeds come from. */
static inline uint16_t mt_fuzz_u16(mt_fuzz_in *in)
{
	uint16_t hi = mt_fuzz_u8(in);
	return (uint16_t)(hi << 8 | mt_fuzz_u8(in));
}

static inline uint32_t mt_fuzz_u32(mt_fuzz_in *in)
{
	uint32_t hi = mt_fuzz_u16(in);
	return hi << 16 | mt_fuzz_u16(in);
}

/* Up to want bytes (fewer at the end of the input); *got says how many. */
static inline const uint8_t *mt_fuzz_bytes(mt_fuzz_in *in, size_t want, size_t *got)
{
	const uint8_t *p = in->p + in->off;

	if (want > in->n - in->off) {
		want = in->n - in->off;
		in->end = 1;
	}
	in->off += want;
	*got = want;
	return p;
}

/*
 * A heap copy of exactly n bytes (at least one byte allocated), so that
 * AddressSanitizer flags a read one past what the code was given. libFuzzer's
 * own buffer is exact only for the whole input, not for a slice of it.
 */
static inline uint8_t *mt_fuzz_dup(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (!d)
		abort(); /* the fuzzer's RSS limit reports this */
	if (n)
		memcpy(d, p, n);
	return d;
}

/* 1 if field[0, cap) holds a NUL: a C string that stayed inside its buffer. */
static inline int mt_fuzz_cstr_ok(const char *field, size_t cap)
{
	return memchr(field, '\0', cap) != NULL;
}

/*
 * An in-memory file that path-taking loaders can open: a memfd made once per
 * process, rewritten for each input. Opening /proc/self/fd/N gives a new
 * file description at offset 0, so the loader reads from the start.
 */
typedef struct mt_fuzz_file {
	int fd;
	char path[64];
} mt_fuzz_file;

static inline void mt_fuzz_file_write(mt_fuzz_file *f, const uint8_t *data, size_t size)
{
	size_t off = 0;

	if (f->path[0] == '\0') {
		f->fd = memfd_create("mt-fuzz", 0);
		if (f->fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
	}
	if (ftruncate(f->fd, 0) < 0) {
		perror("ftruncate");
		abort();
	}
	while (off < size) {
		ssize_t w = pwrite(f->fd, data + off, size - off, (off_t)off);
		if (w <= 0) {
			perror("pwrite");
			abort();
		}
		off += (size_t)w;
	}
}

#endif
