/* pcap-loop - the benchmark's ceiling: reads every packet of a capture with pcap_next_ex and counts it. */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	uint64_t packets = 0, bytes = 0;
	pcap_t *p;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: pcap-loop FILE\n");
		return 2;
	}
	p = pcap_open_offline(argv[1], errbuf);
	if (p == NULL) {
		fprintf(stderr, "pcap-loop: %s\n", errbuf);
		return 1;
	}
	while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
		packets++;
		bytes += hdr->caplen;
	}
	if (rc == PCAP_ERROR) {
		/* A truncated capture still reports what was read, like minetrace does. */
		fprintf(stderr, "pcap-loop: %s: %s\n", argv[1], pcap_geterr(p));
	}
	pcap_close(p);
	printf("packets=%" PRIu64 " bytes=%" PRIu64 "\n", packets, bytes);
	return rc == PCAP_ERROR ? 1 : 0;
}
