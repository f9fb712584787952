/* ndpi_off.c - the nDPI adapter when minetrace is built without nDPI (-Dndpi=disabled). */
#include "detect/ndpi.h"

#include "util/log.h"

mt_ndpi *mt_ndpi_new(void)
{
	mt_warn("built without nDPI: no protocol labels, SNI or HTTP names");
	return NULL;
}

void mt_ndpi_free(mt_ndpi *n)
{
	(void)n;
}

const char *mt_ndpi_version(void)
{
	return "none";
}

mt_ndpi_flow *mt_ndpi_flow_new(mt_ndpi *n, size_t *mem)
{
	(void)n;
	*mem = 0;
	return NULL;
}

int mt_ndpi_packet(mt_ndpi *n, mt_ndpi_flow *f, const mt_pkt *p, int dir, mt_ndpi_info *info)
{
	(void)n, (void)f, (void)p, (void)dir;
	info->done = 1;
	return 1;
}

int mt_ndpi_feed(mt_ndpi *n, mt_ndpi_flow *f, const mt_pkt *p, int dir)
{
	(void)n, (void)f, (void)p, (void)dir;
	return 1;
}

void mt_ndpi_result(mt_ndpi *n, mt_ndpi_flow *f, mt_ndpi_info *info)
{
	(void)n, (void)f;
	info->done = 1;
}

void mt_ndpi_set_labels_only(mt_ndpi *n, int on)
{
	(void)n, (void)on;
}

void mt_ndpi_set_max_packets(mt_ndpi *n, uint32_t max)
{
	(void)n, (void)max;
}

int mt_ndpi_host_app(mt_ndpi *n, const char *host, size_t len, char *app, size_t applen)
{
	(void)n, (void)host, (void)len;
	if (app && applen)
		app[0] = '\0';
	return 0;
}

void mt_ndpi_giveup(mt_ndpi *n, mt_ndpi_flow *f, mt_ndpi_info *info)
{
	(void)n, (void)f;
	info->done = 1;
}

void mt_ndpi_flow_free(mt_ndpi_flow *f)
{
	(void)f;
}
