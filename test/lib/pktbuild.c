// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test packet builder (see pktbuild.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktbuild.h"

static void die(const char *what)
{
	fprintf(stderr, "pktbuild: %s\n", what);
	abort();
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

uint16_t pb_csum(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t pseudo_sum(int family, const uint8_t *src, const uint8_t *dst,
			   uint8_t proto, size_t len)
{
	uint32_t sum = 0;
	int alen = family == 4 ? 4 : 16;

	for (int i = 0; i < alen; i += 2) {
		sum += (uint32_t)src[i] << 8 | src[i + 1];
		sum += (uint32_t)dst[i] << 8 | dst[i + 1];
	}
	sum += proto;
	sum += (uint32_t)len;
	return sum;
}

static size_t l4_header_len(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 20;
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 8;
	default:
		return 0;
	}
}

size_t pb_build_ip(const struct pb_ip *ip, const uint8_t *l4_payload,
		   size_t plen, uint8_t *buf, size_t cap, size_t *hdr_end)
{
	uint8_t src[16], dst[16];
	size_t iph, exth = 0, l4h, total, payload;
	uint8_t *l4;
	uint8_t nh;

	if (ip->family == 4) {
		if (inet_pton(AF_INET, ip->src, src) != 1 ||
		    inet_pton(AF_INET, ip->dst, dst) != 1)
			die("bad IPv4 address");
		if (ip->v4_opt_len % 4 || ip->v4_opt_len > 40)
			die("bad IPv4 option length");
		iph = 20 + ip->v4_opt_len;
	} else if (ip->family == 6) {
		if (inet_pton(AF_INET6, ip->src, src) != 1 ||
		    inet_pton(AF_INET6, ip->dst, dst) != 1)
			die("bad IPv6 address");
		iph = 40;
		exth = 8 * (size_t)ip->next;
	} else {
		die("family must be 4 or 6");
	}
	l4h = l4_header_len(ip->proto);
	payload = l4_payload ? plen : ip->payload;
	total = iph + exth + l4h + payload;
	if (total > cap)
		die("packet too long");
	memset(buf, 0, total);

	if (ip->family == 4) {
		buf[0] = 0x40 | (uint8_t)(iph / 4);
		put16(buf + 2, (uint16_t)total);
		put16(buf + 4, ip->ident ? (uint16_t)ip->ident : 0x1234);
		put16(buf + 6, (uint16_t)((ip->more_frags ? 0x2000 : 0) |
					  (ip->frag_off & 0x1fff)));
		buf[8] = ip->ttl ? ip->ttl : 64;
		buf[9] = ip->proto;
		memcpy(buf + 12, src, 4);
		memcpy(buf + 16, dst, 4);
		/* Options: NOPs, then End of Option List. */
		for (size_t i = 20; i < iph; i++)
			buf[i] = 1;
		if (iph > 20)
			buf[iph - 1] = 0;
		put16(buf + 10, pb_csum(buf, iph, 0));
	} else {
		buf[0] = 0x60;
		put16(buf + 4, (uint16_t)(total - 40));
		buf[7] = ip->ttl ? ip->ttl : 64;
		memcpy(buf + 8, src, 16);
		memcpy(buf + 24, dst, 16);
		nh = ip->next ? ip->ext[0] : ip->proto;
		buf[6] = nh;
		for (int i = 0; i < ip->next; i++) {
			uint8_t *e = buf + 40 + 8 * i;

			e[0] = i + 1 < ip->next ? ip->ext[i + 1] : ip->proto;
			if (ip->ext[i] == 44) {
				put16(e + 2, (uint16_t)((ip->frag_off << 3) |
							(ip->more_frags ? 1 : 0)));
				put16(e + 4, (uint16_t)((ip->ident ? ip->ident :
								     0x1234) >>
							16));
				put16(e + 6, (uint16_t)(ip->ident ? ip->ident :
								    0x1234));
			} else if (ip->ext[i] == 51) {
				e[1] = 0; /* AH: (0 + 2) * 4 = 8 bytes */
			} else {
				e[1] = 0; /* (0 + 1) * 8 = 8 bytes */
				if (ip->ext[i] == 0 || ip->ext[i] == 60) {
					e[2] = 1; /* PadN of 4 */
					e[3] = 4;
				}
			}
		}
	}

	l4 = buf + iph + exth;
	if (l4_payload)
		memcpy(l4 + l4h, l4_payload, plen);
	switch (ip->proto) {
	case IPPROTO_TCP:
		put16(l4, ip->sport);
		put16(l4 + 2, ip->dport);
		put16(l4 + 4, 0);
		l4[7] = 1; /* seq */
		l4[12] = 5 << 4;
		l4[13] = ip->tcp_flags ? ip->tcp_flags : 0x02;
		put16(l4 + 14, 65535);
		break;
	case IPPROTO_UDP:
		put16(l4, ip->sport);
		put16(l4 + 2, ip->dport);
		put16(l4 + 4, (uint16_t)(l4h + payload));
		break;
	case IPPROTO_ICMP:
		l4[0] = ip->icmp_type ? ip->icmp_type : 8;
		put16(l4 + 4, ip->sport); /* identifier */
		put16(l4 + 6, 1);
		break;
	case IPPROTO_ICMPV6:
		l4[0] = ip->icmp_type ? ip->icmp_type : 128;
		put16(l4 + 4, ip->sport);
		put16(l4 + 6, 1);
		break;
	}
	if (l4h && !(ip->family == 4 && (ip->frag_off || ip->more_frags))) {
		size_t l4len = l4h + payload;
		uint32_t ps = ip->proto == IPPROTO_ICMP ?
				      0 :
				      pseudo_sum(ip->family, src, dst,
						 ip->proto, l4len);
		int csoff = ip->proto == IPPROTO_TCP ? 16 :
			    ip->proto == IPPROTO_UDP ? 6 :
						       2;
		uint16_t c = pb_csum(l4, l4len, ps);

		if (ip->proto == IPPROTO_UDP && c == 0)
			c = 0xffff;
		put16(l4 + csoff, c);
	}
	if (hdr_end)
		*hdr_end = iph + exth + l4h;
	return total;
}

static size_t build_gtpu(const struct pb_frame *f, uint8_t *buf, size_t cap,
			 size_t *inner_hdr_end)
{
	uint8_t inner[PB_MAX];
	size_t ilen, ihdr, hlen, opt;

	ilen = pb_build_ip(&f->ip, NULL, 0, inner, sizeof(inner), &ihdr);
	opt = f->gtp_ext ? 4 + 4 * (size_t)f->gtp_ext : 0;
	hlen = 8 + opt;
	if (hlen + ilen > cap)
		die("GTP-U frame too long");
	memset(buf, 0, hlen);
	buf[0] = (uint8_t)(((f->gtp_version ? f->gtp_version : 1) << 5) |
			   0x10 | (f->gtp_ext ? 0x04 : 0));
	buf[1] = f->gtp_type ? f->gtp_type : 255;
	put16(buf + 2, (uint16_t)(opt + ilen + f->gtp_len_delta));
	buf[4] = 0x00;
	buf[5] = 0x00;
	buf[6] = 0x12;
	buf[7] = 0x34; /* TEID 0x1234 */
	if (f->gtp_ext) {
		/* Seq 0, N-PDU 0, next type; each extension is a PDU session
		 * container (0x85) of one 4-byte unit. */
		buf[11] = 0x85;
		for (int i = 0; i < f->gtp_ext; i++) {
			uint8_t *e = buf + 12 + 4 * i;

			e[0] = 1;
			e[1] = 0x10; /* UL PDU session information */
			e[2] = 0x09; /* QFI */
			e[3] = i + 1 < f->gtp_ext ? 0x85 : 0;
		}
	}
	memcpy(buf + hlen, inner, ilen);
	if (inner_hdr_end)
		*inner_hdr_end = hlen + ihdr;
	return hlen + ilen;
}

size_t pb_build(const struct pb_frame *f, uint8_t *buf, size_t cap,
		size_t *hdr_end)
{
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	const struct pb_ip *ip = f->gtpu ? &f->outer : &f->ip;
	size_t off = 12, len, hend;

	if (cap < PB_MAX || f->vlans < 0 || f->vlans > 3)
		die("bad frame spec");
	memset(buf, 0, 64);
	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	for (int i = 0; i < f->vlans; i++) {
		put16(buf + off,
		      i == 0 && f->vlans > 1 ? 0x88A8 : 0x8100);
		put16(buf + off + 2, (uint16_t)(100 + i));
		off += 4;
	}
	put16(buf + off, f->ethertype ? f->ethertype :
			 ip->family == 4 ? 0x0800 : 0x86DD);
	off += 2;
	if (f->gtpu) {
		uint8_t g[PB_MAX];
		struct pb_ip o = f->outer;
		size_t glen, ghdr, ohdr;

		glen = build_gtpu(f, g, sizeof(g), &ghdr);
		o.proto = IPPROTO_UDP;
		if (!o.sport)
			o.sport = 2152;
		if (!o.dport)
			o.dport = 2152;
		len = pb_build_ip(&o, g, glen, buf + off, cap - off, &ohdr);
		hend = off + ohdr + ghdr;
	} else {
		len = pb_build_ip(&f->ip, NULL, 0, buf + off, cap - off, &hend);
		hend += off;
	}
	if (hdr_end)
		*hdr_end = hend;
	return off + len;
}

void pb_hexdump(const uint8_t *buf, size_t len, char *out, size_t outlen)
{
	size_t n = 0;

	if (!outlen)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < len && n + 8 < outlen; i++) {
		if (i % 16 == 0)
			n += snprintf(out + n, outlen - n, "%s%04zx:",
				      i ? "\n" : "", i);
		if (n + 4 < outlen)
			n += snprintf(out + n, outlen - n, " %02x", buf[i]);
	}
}
