/* spool.c - on-disk FIFO of hit records: append-only segment files of checked records.
 *
 * Folder layout (created 0700, files 0600):
 *   seg-NNNNNNNNNNNNNNNNNNNN.mts   segments, oldest first; each run appends to a new one
 *   pos                            "SEGID OFFSET COUNT\n": how far delivery got (tmp + rename)
 * Record: "MTS1" (4 bytes), payload length (u32 little-endian), CRC-32 of the payload
 * (u32 LE; CRC-32/ISO-HDLC as in ISO 3309 / ITU-T V.42, poly 0xEDB88320 reflected), payload.
 * A writer killed mid-record leaves a torn tail: found at open by its length or CRC,
 * counted, and cut off (the file is truncated there), so it is counted once.
 */
#include "sink/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/log.h"

#define SEG_MIN (64u << 10)
#define SEG_MAX (64u << 20)

typedef struct seg {
	uint64_t id;
	uint64_t size; /* valid bytes */
	uint64_t nrec;
} seg;

struct mt_spool {
	char dir[512];
	uint64_t max_bytes, seg_max, total;
	int policy;
	seg *s;
	size_t n, cap;
	int lockfd; /* DIR/lock, flock()ed while open: one process per spool */
	int wfd;   /* the segment this run appends to (always the last one), or -1 */
	int rfd;   /* open read file, or -1 */
	uint64_t rfd_id;
	size_t rd; /* read cursor: segment index, offset, records before it in the segment */
	uint64_t rd_off, rd_rec;
	uint64_t c_off, c_rec; /* commit position in s[0] */
	uint64_t nrec_total;
	uint8_t *buf;
	size_t bufcap;
	mt_spool_stats st;
};

static uint32_t crc_table[256];
static int crc_ready;

uint32_t mt_spool_crc32(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t c = 0xFFFFFFFFu;

	if (!crc_ready) { /* racing initialisers write the same values */
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;
			for (int k = 0; k < 8; k++)
				v = (v & 1) ? 0xEDB88320u ^ (v >> 1) : v >> 1;
			crc_table[i] = v;
		}
		crc_ready = 1;
	}
	for (size_t i = 0; i < len; i++)
		c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int mt_spool_policy_parse(const char *name)
{
	if (!name || strcmp(name, "drop-newest") == 0)
		return MT_SPOOL_DROP_NEWEST;
	if (strcmp(name, "drop-oldest") == 0)
		return MT_SPOOL_DROP_OLDEST;
	return -EINVAL;
}

static int seg_path(const mt_spool *sp, uint64_t id, char *out, size_t n)
{
	return (size_t)snprintf(out, n, "%s/seg-%020llu.mts", sp->dir, (unsigned long long)id) < n ? 0
												    : -ENAMETOOLONG;
}

static int push_seg(mt_spool *sp, uint64_t id)
{
	if (sp->n == sp->cap) {
		size_t nc = sp->cap ? sp->cap * 2 : 16;
		seg *ns = realloc(sp->s, nc * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		sp->s = ns;
		sp->cap = nc;
	}
	sp->s[sp->n].id = id;
	sp->s[sp->n].size = 0;
	sp->s[sp->n].nrec = 0;
	sp->n++;
	return 0;
}

static int cmp_seg(const void *a, const void *b)
{
	const seg *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Reads n bytes at off; 0, 1 if the file ends first, or -errno. */
static int pread_all(int fd, void *p, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, (uint8_t *)p + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return 1;
		got += (size_t)r;
	}
	return 0;
}

static int grow_buf(mt_spool *sp, size_t n)
{
	if (n <= sp->bufcap)
		return 0;
	size_t nc = sp->bufcap ? sp->bufcap : 4096;
	while (nc < n)
		nc *= 2;
	uint8_t *nb = realloc(sp->buf, nc);
	if (!nb)
		return -ENOMEM;
	sp->buf = nb;
	sp->bufcap = nc;
	return 0;
}

/*
 * Reads the record at off of fd: 1 and its length (payload in sp->buf), 0 at a clean end,
 * -EBADMSG when torn or damaged, other -errno on I/O errors.
 */
static int read_rec(mt_spool *sp, int fd, uint64_t off, uint64_t size, size_t *len)
{
	uint8_t h[MT_SPOOL_HDR];
	if (off >= size)
		return 0;
	if (size - off < MT_SPOOL_HDR)
		return -EBADMSG;
	int rc = pread_all(fd, h, sizeof(h), off);
	if (rc)
		return rc > 0 ? -EBADMSG : rc;
	uint32_t l = get32(h + 4);
	if (memcmp(h, "MTS1", 4) != 0 || l > MT_SPOOL_MAX_RECORD || size - off - MT_SPOOL_HDR < l)
		return -EBADMSG;
	if ((rc = grow_buf(sp, l ? l : 1)) < 0)
		return rc;
	rc = pread_all(fd, sp->buf, l, off + MT_SPOOL_HDR);
	if (rc)
		return rc > 0 ? -EBADMSG : rc;
	if (mt_spool_crc32(sp->buf, l) != get32(h + 8))
		return -EBADMSG;
	*len = l;
	return 1;
}

/* Counts a segment's intact records; cuts a torn tail off (counted once). */
static int scan_seg(mt_spool *sp, seg *g)
{
	char path[600];
	struct stat stt;
	uint64_t off = 0;
	size_t len;
	int rc;

	if (seg_path(sp, g->id, path, sizeof(path)))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &stt) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while ((rc = read_rec(sp, fd, off, (uint64_t)stt.st_size, &len)) == 1) {
		off += MT_SPOOL_HDR + len;
		g->nrec++;
	}
	if (rc == -EBADMSG) {
		sp->st.torn++;
		if (ftruncate(fd, (off_t)off) < 0) {
			/* read-only spool: the tail is still skipped, just counted again next time */
		}
		rc = 0;
	}
	close(fd);
	g->size = off;
	return rc;
}

static void read_pos(mt_spool *sp, uint64_t *id, uint64_t *off, uint64_t *cnt)
{
	char path[600], b[96];
	*id = *off = *cnt = 0;
	snprintf(path, sizeof(path), "%s/pos", sp->dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t r = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (r <= 0)
		return;
	b[r] = '\0';
	unsigned long long a, c, d;
	char nl;
	/* b is NUL-terminated text we wrote ourselves */
	if (sscanf(b, "%llu %llu %llu%c", &a, &c, &d, &nl) == 4 && nl == '\n') {
		*id = a;
		*off = c;
		*cnt = d;
	}
}

static int write_pos(mt_spool *sp)
{
	char path[600], tmp[600], b[96];
	int n = snprintf(b, sizeof(b), "%llu %llu %llu\n",
			 (unsigned long long)(sp->n ? sp->s[0].id : 0), (unsigned long long)sp->c_off,
			 (unsigned long long)sp->c_rec);
	snprintf(path, sizeof(path), "%s/pos", sp->dir);
	snprintf(tmp, sizeof(tmp), "%s/pos.tmp", sp->dir);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = write(fd, b, (size_t)n) == n ? 0 : -EIO;
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	return rc;
}

static void drop_front(mt_spool *sp)
{
	char path[600];
	if (sp->rfd >= 0 && sp->rfd_id == sp->s[0].id) {
		close(sp->rfd);
		sp->rfd = -1;
	}
	if (seg_path(sp, sp->s[0].id, path, sizeof(path)) == 0)
		unlink(path);
	sp->total -= sp->s[0].size;
	sp->nrec_total -= sp->s[0].nrec;
	memmove(sp->s, sp->s + 1, (sp->n - 1) * sizeof(*sp->s));
	sp->n--;
	sp->c_off = sp->c_rec = 0;
	if (sp->rd > 0) {
		sp->rd--;
	} else {
		sp->rd_off = sp->rd_rec = 0;
	}
}

mt_spool *mt_spool_open(const char *dir, uint64_t max_bytes, int policy, char *err, size_t errlen)
{
	mt_spool *sp = calloc(1, sizeof(*sp));
	struct stat stt;
	DIR *d;
	struct dirent *de;
	uint64_t pid, poff, pcnt;

	if (!sp) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sp->wfd = sp->rfd = sp->lockfd = -1;
	sp->policy = policy;
	sp->max_bytes = max_bytes ? max_bytes : MT_SPOOL_DEFAULT_MAX;
	sp->seg_max = sp->max_bytes / 8;
	if (sp->seg_max < SEG_MIN)
		sp->seg_max = SEG_MIN;
	if (sp->seg_max > SEG_MAX)
		sp->seg_max = SEG_MAX;
	if (!dir || !dir[0] || strlen(dir) >= sizeof(sp->dir) - 64) {
		snprintf(err, errlen, "spool: bad folder name");
		goto fail;
	}
	memcpy(sp->dir, dir, strlen(dir) + 1);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "spool %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (stat(dir, &stt) < 0 || !S_ISDIR(stt.st_mode)) {
		snprintf(err, errlen, "spool %s: not a folder", dir);
		goto fail;
	}
	if (stt.st_mode & 077) /* made by someone else: hit records name miners and wallets */
		mt_warn("spool %s: the folder is open to other users (mode %03o); 0700 is advised", dir,
			(unsigned)(stt.st_mode & 0777));
	char lpath[600];
	snprintf(lpath, sizeof(lpath), "%s/lock", dir);
	sp->lockfd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sp->lockfd < 0 || flock(sp->lockfd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errlen, "spool %s: %s", dir,
			 errno == EWOULDBLOCK ? "in use by another minetrace (give each process its own --spool)"
					      : strerror(errno));
		goto fail;
	}
	d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "spool %s: %s", dir, strerror(errno));
		goto fail;
	}
	while ((de = readdir(d)) != NULL) {
		const char *nm = de->d_name;
		uint64_t id = 0;
		size_t l = strlen(nm), i;
		if (l != 28 || strncmp(nm, "seg-", 4) != 0 || strcmp(nm + 24, ".mts") != 0)
			continue;
		for (i = 4; i < 24 && nm[i] >= '0' && nm[i] <= '9'; i++)
			id = id * 10 + (uint64_t)(nm[i] - '0');
		if (i == 24 && push_seg(sp, id) < 0) {
			closedir(d);
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	closedir(d);
	if (sp->n) /* qsort wants a real array even for 0 elements */
		qsort(sp->s, sp->n, sizeof(*sp->s), cmp_seg);
	read_pos(sp, &pid, &poff, &pcnt);
	for (size_t i = 0; i < sp->n; i++) {
		int rc = scan_seg(sp, &sp->s[i]);
		if (rc < 0) {
			snprintf(err, errlen, "spool %s: %s", dir, strerror(-rc));
			goto fail;
		}
		sp->total += sp->s[i].size;
		sp->nrec_total += sp->s[i].nrec;
	}
	/* Segments before the saved position were delivered (the run died before removing them). */
	while (sp->n && sp->s[0].id < pid)
		drop_front(sp);
	if (sp->n && sp->s[0].id == pid && poff <= sp->s[0].size && pcnt <= sp->s[0].nrec) {
		sp->c_off = sp->rd_off = poff;
		sp->c_rec = sp->rd_rec = pcnt;
	}
	sp->st.found = sp->nrec_total - sp->c_rec;
	return sp;
fail:
	mt_spool_close(sp);
	return NULL;
}

static int new_wseg(mt_spool *sp)
{
	char path[600];
	uint64_t id = sp->n ? sp->s[sp->n - 1].id + 1 : 1;
	if (sp->wfd >= 0) {
		close(sp->wfd);
		sp->wfd = -1;
	}
	if (seg_path(sp, id, path, sizeof(path)))
		return -ENAMETOOLONG;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = push_seg(sp, id);
	if (rc < 0) {
		close(fd);
		unlink(path);
		return rc;
	}
	sp->wfd = fd;
	return 0;
}

int mt_spool_append(mt_spool *sp, const void *rec, size_t len)
{
	uint8_t h[MT_SPOOL_HDR];
	uint64_t need = MT_SPOOL_HDR + (uint64_t)len;
	int rc;

	if (len > MT_SPOOL_MAX_RECORD)
		return -EMSGSIZE;
	while (sp->total + need > sp->max_bytes) {
		if (sp->policy != MT_SPOOL_DROP_OLDEST || sp->n == 0 || need > sp->max_bytes) {
			sp->st.dropped++;
			return -ENOSPC;
		}
		if (sp->n == 1 && sp->wfd >= 0 && (rc = new_wseg(sp)) < 0)
			return rc;
		sp->st.dropped += sp->s[0].nrec - sp->c_rec;
		drop_front(sp);
		write_pos(sp);
	}
	if (sp->wfd < 0 || sp->s[sp->n - 1].size >= sp->seg_max) {
		if ((rc = new_wseg(sp)) < 0)
			return rc;
	}
	memcpy(h, "MTS1", 4);
	put32(h + 4, (uint32_t)len);
	put32(h + 8, mt_spool_crc32(rec, len));
	struct iovec iov[2] = { { h, sizeof(h) }, { (void *)(uintptr_t)rec, len } };
	size_t done = 0, all = sizeof(h) + len;
	while (done < all) {
		ssize_t w;
		if (done < sizeof(h)) {
			struct iovec v2[2] = { { h + done, sizeof(h) - done }, iov[1] };
			w = writev(sp->wfd, v2, 2);
		} else {
			w = write(sp->wfd, (const uint8_t *)rec + (done - sizeof(h)), all - done);
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = w < 0 ? -errno : -EIO;
			/* cut the partial record so the file stays well-formed; start a new file */
			if (ftruncate(sp->wfd, (off_t)sp->s[sp->n - 1].size) < 0) {
				/* the next open finds the cut record and counts it as torn */
			}
			close(sp->wfd);
			sp->wfd = -1;
			return rc;
		}
		done += (size_t)w;
	}
	seg *g = &sp->s[sp->n - 1];
	g->size += need;
	g->nrec++;
	sp->total += need;
	sp->nrec_total++;
	sp->st.appended++;
	return 0;
}

int mt_spool_next(mt_spool *sp, const uint8_t **rec, size_t *len)
{
	char path[600];
	for (;;) {
		if (sp->rd >= sp->n)
			return 0;
		seg *g = &sp->s[sp->rd];
		if (sp->rd_off >= g->size) {
			if (sp->rd + 1 >= sp->n)
				return 0;
			sp->rd++;
			sp->rd_off = sp->rd_rec = 0;
			continue;
		}
		if (sp->rfd < 0 || sp->rfd_id != g->id) {
			if (sp->rfd >= 0)
				close(sp->rfd);
			if (seg_path(sp, g->id, path, sizeof(path)))
				return -ENAMETOOLONG;
			sp->rfd = open(path, O_RDONLY | O_CLOEXEC);
			if (sp->rfd < 0) { /* removed behind our back: its records are lost, counted */
				sp->st.torn++;
				sp->nrec_total -= g->nrec - sp->rd_rec;
				g->nrec = sp->rd_rec;
				sp->total -= g->size - sp->rd_off;
				g->size = sp->rd_off;
				if (sp->rd == sp->n - 1 && sp->wfd >= 0) {
					close(sp->wfd);
					sp->wfd = -1;
				}
				continue;
			}
			sp->rfd_id = g->id;
		}
		int rc = read_rec(sp, sp->rfd, sp->rd_off, g->size, len);
		if (rc == -EBADMSG || rc == 0) {
			/* damaged after we indexed it: skip the rest of this file */
			sp->st.torn++;
			sp->nrec_total -= g->nrec - sp->rd_rec;
			g->nrec = sp->rd_rec;
			sp->total -= g->size - sp->rd_off;
			g->size = sp->rd_off;
			if (sp->rd == sp->n - 1 && sp->wfd >= 0) { /* append to a fresh file from now on */
				close(sp->wfd);
				sp->wfd = -1;
			}
			continue;
		}
		if (rc < 0)
			return rc;
		sp->rd_off += MT_SPOOL_HDR + *len;
		sp->rd_rec++;
		*rec = sp->buf;
		return 1;
	}
}

int mt_spool_commit(mt_spool *sp)
{
	while (sp->rd > 0) { /* whole files read: gone */
		sp->st.delivered += sp->s[0].nrec - sp->c_rec;
		drop_front(sp);
	}
	if (sp->n) {
		sp->st.delivered += sp->rd_rec - sp->c_rec;
		sp->c_off = sp->rd_off;
		sp->c_rec = sp->rd_rec;
		/* a fully read file that is not the one being appended to is finished */
		if (sp->c_off >= sp->s[0].size && !(sp->wfd >= 0 && sp->n == 1))
			drop_front(sp);
	}
	return write_pos(sp);
}

void mt_spool_rewind(mt_spool *sp)
{
	sp->rd = 0;
	sp->rd_off = sp->c_off;
	sp->rd_rec = sp->c_rec;
}

uint64_t mt_spool_pending(const mt_spool *sp)
{
	return sp->nrec_total - sp->c_rec;
}

void mt_spool_get_stats(const mt_spool *sp, mt_spool_stats *st)
{
	*st = sp->st;
	st->pending = mt_spool_pending(sp);
	st->bytes = sp->total;
}

void mt_spool_close(mt_spool *sp)
{
	if (!sp)
		return;
	if (sp->wfd >= 0)
		close(sp->wfd);
	if (sp->rfd >= 0)
		close(sp->rfd);
	if (sp->lockfd >= 0)
		close(sp->lockfd); /* releases the flock */
	free(sp->s);
	free(sp->buf);
	free(sp);
}
