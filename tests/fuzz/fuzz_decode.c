/* fuzz_decode.c - fuzz target: mt_decode_frame over one raw frame of each link type we decode. */
/*
 * Input: one control byte, then the frame.
 *   bits 0-2: link type, an index into links[] below;
 *   bit 3:    the frame was cut by a snap length (wire_len > cap_len).
 * Checks beyond memory safety: every pointer and length of the result stays
 * inside the frame, the counters add up, no field of a decoded packet
 * depends on what the caller's struct held before (uninitialised output).
 */
#include "fuzz.h"

#include "decode/decode.h"

static const int links[8] = {
	MT_LINK_NULL, MT_LINK_ETHERNET, MT_LINK_RAW, MT_LINK_LOOP,
	MT_LINK_LINUX_SLL, MT_LINK_IPV4, MT_LINK_IPV6, MT_LINK_LINUX_SLL2,
};

static uint64_t sum(const uint64_t *v, int n)
{
	uint64_t s = 0;
	int i;

	for (i = 0; i < n; i++)
		s += v[i];
	return s;
}

static void check_pkt(const mt_pkt *p, const uint8_t *frame, uint32_t cap_len, uint32_t wire_len)
{
	const uint8_t *end = frame + cap_len;
	int i;

	MT_FUZZ_CHECK(p->ipver == 4 || p->ipver == 6);
	MT_FUZZ_CHECK(p->l4proto == 6 || p->l4proto == 17);
	MT_FUZZ_CHECK(p->cap_len == cap_len && p->wire_len == wire_len);
	MT_FUZZ_CHECK(p->l3 >= frame && p->l3 <= end);
	MT_FUZZ_CHECK(p->l3_len <= (size_t)(end - p->l3));
	MT_FUZZ_CHECK(p->payload >= p->l3 && p->payload <= end);
	MT_FUZZ_CHECK(p->payload_len <= (size_t)(end - p->payload));
	MT_FUZZ_CHECK(p->payload + p->payload_len <= p->l3 + p->l3_len);
	MT_FUZZ_CHECK(p->truncated == 0 || p->truncated == 1);
	/* Nothing can have been cut by a snap length that cut nothing. */
	if (wire_len == cap_len)
		MT_FUZZ_CHECK(p->truncated == 0);
	if (p->ipver == 4) {
		for (i = 4; i < 16; i++)
			MT_FUZZ_CHECK(p->src[i] == 0 && p->dst[i] == 0);
	}
}

/* Same answer whatever garbage the output struct held before. */
static void check_same(const mt_pkt *a, const mt_pkt *b)
{
	int i;

	MT_FUZZ_CHECK(a->ts_us == b->ts_us && a->wire_len == b->wire_len && a->cap_len == b->cap_len);
	MT_FUZZ_CHECK(a->ipver == b->ipver && a->l4proto == b->l4proto);
	MT_FUZZ_CHECK(a->nvlan == b->nvlan);
	for (i = 0; i < a->nvlan && i < MT_DECODE_MAX_VLAN; i++)
		MT_FUZZ_CHECK(a->vlan[i] == b->vlan[i]);
	MT_FUZZ_CHECK(memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0);
	MT_FUZZ_CHECK(a->sport == b->sport && a->dport == b->dport);
	if (a->l4proto == 6)
		MT_FUZZ_CHECK(a->seq == b->seq && a->ack == b->ack && a->win == b->win &&
			      a->tcp_flags == b->tcp_flags);
	MT_FUZZ_CHECK(a->l3 == b->l3 && a->l3_len == b->l3_len);
	MT_FUZZ_CHECK(a->payload == b->payload && a->payload_len == b->payload_len);
	MT_FUZZ_CHECK(a->truncated == b->truncated);
}

static void check_stats(const mt_decode_stats *st, int rc)
{
	uint64_t reasons = sum(st->reason, MT_DEC__COUNT);
	uint64_t others = sum(st->other, MT_OTHER__COUNT);

	MT_FUZZ_CHECK(st->frames == 1);
	MT_FUZZ_CHECK(st->errors == reasons);
	switch (rc) {
	case MT_DECODE_L4:
		MT_FUZZ_CHECK(st->decoded == 1 && reasons == 0 && others == 0);
		break;
	case MT_DECODE_OTHER:
		MT_FUZZ_CHECK(st->decoded == 0 && reasons == 0 && others == 1);
		break;
	case MT_DECODE_ERROR:
		MT_FUZZ_CHECK(st->decoded == 0 && reasons == 1 && others == 0);
		break;
	default:
		MT_FUZZ_CHECK(!"mt_decode_frame returned a value outside enum mt_dec_result");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mt_decode_stats st, st2;
	mt_pkt a, b;
	uint8_t *frame;
	uint32_t cap_len, wire_len;
	int lt, rc, rc2, i;

	if (size < 1 || size - 1 > 1u << 20)
		return 0;
	lt = links[data[0] & 7];
	cap_len = (uint32_t)(size - 1);
	wire_len = (data[0] & 8) ? cap_len + 1500 : cap_len;
	frame = mt_fuzz_dup(data + 1, cap_len);

	MT_FUZZ_CHECK(mt_decode_link_supported(lt) == 1);
	memset(&st, 0, sizeof(st));
	memset(&a, 0xA5, sizeof(a));
	rc = mt_decode_frame(lt, frame, cap_len, wire_len, 1710406800000000ull, &a, &st);
	check_stats(&st, rc);
	if (rc == MT_DECODE_L4)
		check_pkt(&a, frame, cap_len, wire_len);

	memset(&st2, 0, sizeof(st2));
	memset(&b, 0x5A, sizeof(b));
	rc2 = mt_decode_frame(lt, frame, cap_len, wire_len, 1710406800000000ull, &b, &st2);
	MT_FUZZ_CHECK(rc2 == rc);
	MT_FUZZ_CHECK(memcmp(&st, &st2, sizeof(st)) == 0);
	if (rc == MT_DECODE_L4)
		check_same(&a, &b);

	/* The names are total functions over their enums. */
	for (i = 0; i < MT_DEC__COUNT; i++)
		MT_FUZZ_CHECK(mt_decode_reason_name(i) != NULL && mt_decode_reason_name(i)[0]);
	for (i = 0; i < MT_OTHER__COUNT; i++)
		MT_FUZZ_CHECK(mt_decode_other_name(i) != NULL && mt_decode_other_name(i)[0]);
	free(frame);
	return 0;
}
