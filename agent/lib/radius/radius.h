/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RADIUS accounting, the server side (RFC 2866, RFC 2865 section 3 for the
 * packet, RFC 2869/3579 Message-Authenticator), with the attributes a
 * 3GPP packet core sends at the Gi/SGi/N6 edge (TS 29.061 clause 16):
 * a small, strict codec. Debian 12 has no server-side RADIUS library
 * (libfreeradius-dev is the whole server, radcli a client).
 *
 * Strict means: a packet is refused whole (with the reason) when its
 * length field, any attribute's length, an attribute that must appear at
 * most once, a fixed-size value or a text value is wrong. Nothing is
 * truncated or guessed. Bytes after the Length field's end are padding
 * (RFC 2865) and ignored.
 */
#ifndef XCRS_RADIUS_H
#define XCRS_RADIUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RADIUS_HDR 20
#define RADIUS_MAX 4096
#define RADIUS_AUTH_LEN 16

enum radius_code {
	RADIUS_ACCT_REQUEST = 4,
	RADIUS_ACCT_RESPONSE = 5,
};

/* Acct-Status-Type (RFC 2866 5.1) */
enum radius_status {
	RADIUS_START = 1,
	RADIUS_STOP = 2,
	RADIUS_INTERIM = 3,
	RADIUS_ACCT_ON = 7,
	RADIUS_ACCT_OFF = 8,
};

/* Attribute types (RFC 2865, 2866, 2869, 3162) */
enum radius_attr {
	RADIUS_A_USER_NAME = 1,
	RADIUS_A_NAS_IP = 4,
	RADIUS_A_FRAMED_IP = 8,
	RADIUS_A_VENDOR = 26,
	RADIUS_A_CALLED_STATION = 30,
	RADIUS_A_CALLING_STATION = 31,
	RADIUS_A_NAS_ID = 32,
	RADIUS_A_STATUS_TYPE = 40,
	RADIUS_A_DELAY_TIME = 41,
	RADIUS_A_SESSION_ID = 44,
	RADIUS_A_EVENT_TIMESTAMP = 55,
	RADIUS_A_MSG_AUTH = 80,
	RADIUS_A_NAS_IPV6 = 95,
	RADIUS_A_FRAMED_IPV6_PREFIX = 97,
};

/* 3GPP's vendor attributes (vendor 10415, TS 29.061 16.4.7) */
#define RADIUS_VENDOR_3GPP 10415
enum radius_3gpp {
	RADIUS_3GPP_IMSI = 1,
	RADIUS_3GPP_IMEISV = 20,
	RADIUS_3GPP_RAT_TYPE = 21,
	RADIUS_3GPP_ULI = 22,
};

/* One Accounting-Request, decoded. Text values are NUL-terminated; a
 * has_* flag or an empty string says an attribute was absent. */
struct radius_acct {
	uint8_t code, id;
	uint16_t len; /* the Length field */
	uint8_t auth[RADIUS_AUTH_LEN];
	int status; /* enum radius_status, 0 absent */
	bool has_delay;
	uint32_t delay; /* Acct-Delay-Time, seconds */
	bool has_event_time;
	uint32_t event_time;
	char session[65];   /* Acct-Session-Id */
	char user_name[128];
	char imsi[16];	     /* 3GPP-IMSI: 5..15 digits */
	char msisdn[24];     /* Calling-Station-Id: digits, an optional + */
	char apn[101];	     /* Called-Station-Id */
	char imeisv[17];     /* 3GPP-IMEISV: 14..16 digits */
	char nas_id[65];     /* NAS-Identifier */
	bool has_nas_ip, has_nas_ipv6;
	uint8_t nas_ip[4], nas_ipv6[16];
	bool has_ipv4;
	uint8_t ipv4[4]; /* Framed-IP-Address */
	bool has_ipv6;
	uint8_t ipv6_prefix[16]; /* Framed-IPv6-Prefix, host bits zero */
	uint8_t ipv6_plen;
	bool has_rat;
	uint8_t rat; /* 3GPP-RAT-Type */
	/* 3GPP-User-Location-Info as text: "tai:001-01-0001",
	 * "ecgi:001-01-0000101", "tai:…/ecgi:…", "cgi:…", "sai:…", "rai:…",
	 * "ncgi:…" (MCC-MNC-code, the code in hex) */
	char location[64];
	bool has_msg_auth;
	size_t msg_auth_off; /* of its 16-octet value in the packet */
};

/* Decodes an Accounting-Request: 0, or -EBADMSG (err says what). */
int radius_parse(const uint8_t *pkt, size_t len, struct radius_acct *ret,
		 char *err, size_t errlen);

/* Verifies the Request Authenticator (RFC 2866 3) and, where present,
 * the Message-Authenticator (RFC 3579 3.2, computed over the packet with
 * a zero authenticator field, as for Accounting-Request). 0, -EACCES for
 * a wrong Request Authenticator, -EPERM for a wrong Message-Authenticator. */
int radius_verify(const uint8_t *pkt, const struct radius_acct *a,
		  const uint8_t *secret, size_t slen);

/* The Accounting-Response to a (verified) request, without attributes:
 * its length (20), -ENOSPC, or -ENOTSUP where MD5 is not available (a
 * FIPS-only OpenSSL; radius_verify then refuses every request). */
int radius_response(const struct radius_acct *req, const uint8_t *secret,
		    size_t slen, uint8_t *out, size_t outlen);

/* What a client sends: an Accounting-Request of the given attributes
 * (already encoded, raw), its authenticators computed; with msg_auth a
 * Message-Authenticator is added first. For tests and benchmarks: its
 * length, -ENOSPC or -ENOTSUP (no MD5). */
int radius_build_request(uint8_t id, const uint8_t *attrs, size_t alen,
			 bool msg_auth, const uint8_t *secret, size_t slen,
			 uint8_t *out, size_t outlen);

const char *radius_status_name(int status);

#endif
