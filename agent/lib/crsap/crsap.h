/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CRSAP between a terminal's SCA and the SCS (X.1125 clause 9): framing,
 * authentication and the XML codec of the SCI report and SCI response.
 * Pure logic apart from crsap_keyring_load(), which reads one file.
 *
 * On the wire (both directions, over TLS) every message is one frame:
 *
 *   u32 length, big-endian, of what follows (at most CRSAP_FRAME_MAX)
 *   "XCRS1 " terminal-id " " hex(HMAC-SHA-256(key, body)) "\n" body
 *
 * body is an XML document in namespace urn:xcrs:crsap:1 (crsap.xsd). The
 * report carries the terminal id, a timestamp (Unix milliseconds) and a
 * random nonce, all covered by the MAC, so the SCS refuses a forged
 * report (MAC), a stale one (timestamp outside the allowed skew) and a
 * replayed one (nonce already seen within the skew window). The MAC is
 * checked before the XML is parsed. XML is parsed with libxml2 with
 * network access, DTDs and entity substitution off; a document with a
 * DOCTYPE is refused before parsing.
 */
#ifndef XCRS_CRSAP_H
#define XCRS_CRSAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crsap_status.h"
#include "xcrs_abi.h"

/* Names in messages (services, levels, rules, scopes), with their NUL: as
 * long as the policy's names. */
#define CRSAP_NAME_MAX 64

#define CRSAP_NS "urn:xcrs:crsap:1"
#define CRSAP_FRAME_MAX 65536u
#define CRSAP_ID_MAX 160    /* terminal id: [A-Za-z0-9._:@+/=-]{1,160}
			     * (a B-TID from xcrs-authsrv fits) */
#define CRSAP_NONCE_HEX 32  /* 16 random bytes */
#define CRSAP_KEY_MIN 16
#define CRSAP_KEY_MAX 64
#define CRSAP_MAC_LEN 32
#define CRSAP_THREATS_MAX 16
#define CRSAP_LIST_MAX 16

/* A frame taken apart; body points into the caller's buffer. */
struct crsap_frame {
	char id[CRSAP_ID_MAX + 1];
	uint8_t mac[CRSAP_MAC_LEN];
	const uint8_t *body;
	size_t body_len;
};

/* With at least 4 bytes of the stream: the size of the whole frame
 * (prefix included). 0 if fewer than 4 bytes, -EMSGSIZE if too large or
 * empty. */
long crsap_frame_size(const uint8_t *buf, size_t have);
/* Splits a frame (buf and len exclude the length prefix). 0 or -EBADMSG
 * with the reason in err. */
int crsap_frame_split(const uint8_t *buf, size_t len, struct crsap_frame *f,
		      char *err, size_t errlen);
/* Whether f's MAC is that of its body under key (constant time). */
bool crsap_frame_verify(const struct crsap_frame *f, const uint8_t *key,
			size_t keylen);
/* A whole frame (prefix included) in malloc'd *out. 0 or -errno. */
int crsap_frame_build(const char *id, const uint8_t *key, size_t keylen,
		      const void *body, size_t body_len, uint8_t **out,
		      size_t *out_len);

bool crsap_id_valid(const char *id);
/* 32 hex characters from the system's CSPRNG. 0 or -EIO. */
int crsap_nonce(char out[CRSAP_NONCE_HEX + 1]);

struct crsap_threat {
	char name[128];
	unsigned severity;  /* 1 = most severe */
	uint64_t signature; /* 0 = none given */
	char evidence[160];
};

struct crsap_remedy {
	char action[32]; /* "scan", "update", "remove", ... */
	char result[64]; /* "done", "failed", free text */
};

/* SCI report (SCA -> SCS). */
struct crsap_report {
	char ms[CRSAP_ID_MAX + 1];
	uint64_t time_ms;
	char nonce[CRSAP_NONCE_HEX + 1];
	enum crsap_status status;
	char os_name[64], os_version[32];
	char patch_level[32];
	char av_product[64], av_signatures[32];
	char sca_version[32];
	struct crsap_threat threats[CRSAP_THREATS_MAX];
	size_t nthreats;
	struct crsap_remedy remedies[CRSAP_LIST_MAX];
	size_t nremedies;
};

struct crsap_remediation {
	char service[CRSAP_NAME_MAX];
	char prefix[64];  /* "198.51.100.80" or a prefix */
	char protocol[8]; /* "tcp", "udp", "icmp", "any" */
	char ports[32];	  /* "80-443", "" = any */
};

/* SCI response (SCS -> SCA): the answer to a report, and the reaction
 * notice the SCS sends on its own when it decides about the terminal. */
struct crsap_response {
	char ms[CRSAP_ID_MAX + 1];
	uint64_t time_ms;
	char nonce[CRSAP_NONCE_HEX + 1];
	char in_response_to[CRSAP_NONCE_HEX + 1]; /* "" = notice */
	char evaluation[32]; /* report status, or "ids", "fanout", "operator",
			      * "expired", "released" */
	char level[CRSAP_NAME_MAX]; /* control applied */
	uint64_t until_ms;	     /* Unix ms, 0 = until released */
	char rule[CRSAP_NAME_MAX];
	char reason[256];
	char allowed[CRSAP_LIST_MAX][CRSAP_NAME_MAX]; /* reachable services,
							* "all" */
	size_t nallowed;
	char actions[CRSAP_LIST_MAX][64]; /* what the terminal must do */
	size_t nactions;
	struct crsap_remediation remediation[CRSAP_LIST_MAX];
	size_t nremediation;
};

/* SCA probe request (SCS -> SCA, X.1125 11.1): the SCS's initialisation
 * configuration for the SCA. (design: fields) */
struct crsap_probe {
	char ms[CRSAP_ID_MAX + 1];
	uint64_t time_ms;
	char nonce[CRSAP_NONCE_HEX + 1];
	char scs[CRSAP_ID_MAX + 1];	/* the probing SCS */
	char report_to[128];		/* "host:port" of its report listener */
	uint32_t report_interval_s;	/* how often to send SCI reports */
};

/* SCA probe response (SCA -> SCS): the SCA is there, and what it is. */
struct crsap_probe_response {
	char ms[CRSAP_ID_MAX + 1];
	uint64_t time_ms;
	char nonce[CRSAP_NONCE_HEX + 1];
	char in_response_to[CRSAP_NONCE_HEX + 1];
	char sca_version[32];
	char os_name[64], os_version[32];
};

/* Compulsory update instruction (SCS -> SCA, 11.5/12.1): what to update,
 * from where, and after which delay (staggered per MS in an outbreak). */
struct crsap_update {
	char ms[CRSAP_ID_MAX + 1];
	uint64_t time_ms;
	char nonce[CRSAP_NONCE_HEX + 1];
	char campaign[64];	/* the update campaign (compliance tracking) */
	char what[32];		/* "signatures", "sca", "os", "patch" */
	uint64_t delay_ms;	/* execute this long after receipt */
	uint64_t deadline_ms;	/* Unix ms by which to report compliance */
	struct crsap_remediation source; /* the update service */
	char reason[256];
};

/* NAC/SCS messages (clause 10, design): MS connect report, MS leave, and
 * control policy (an SCS's evaluation and control of an MS, for a NAC or
 * for another SCS when the MS moves: roaming, clause 13). node is the
 * sender (a NAC or SCS id); the MS is named by its address. */
enum crsap_nac_kind {
	CRSAP_MS_CONNECT = 0,
	CRSAP_MS_LEAVE,
	CRSAP_CONTROL_POLICY,
};
struct crsap_nac {
	enum crsap_nac_kind kind;
	char node[CRSAP_ID_MAX + 1];
	uint64_t time_ms;
	char nonce[CRSAP_NONCE_HEX + 1];
	char address[64];		/* the MS */
	char scope[CRSAP_NAME_MAX];	/* its group (cell, APN, ...) */
	char cause[32];			/* connect: "first-traffic", "feed";
					 * leave: "idle", "feed", "moved" */
	/* control policy */
	char evaluation[32];
	char level[CRSAP_NAME_MAX];
	uint64_t until_ms;		/* 0 = until released */
	char rule[CRSAP_NAME_MAX];
	char reason[256];
};

/* The root element's name of a CRSAP document ("sciReport", ...), for
 * dispatch; NULL if it is not a CRSAP document. */
const char *crsap_root(const void *body, size_t len, char *buf, size_t buflen);

/* Codec. parse: 0 or -EBADMSG with the reason in err. build: malloc'd
 * document in *out, 0 or -errno. */
int crsap_probe_parse(const void *body, size_t len, struct crsap_probe *p,
		      char *err, size_t errlen);
int crsap_probe_build(const struct crsap_probe *p, char **out,
		      size_t *out_len);
int crsap_probe_response_parse(const void *body, size_t len,
			       struct crsap_probe_response *p, char *err,
			       size_t errlen);
int crsap_probe_response_build(const struct crsap_probe_response *p,
			       char **out, size_t *out_len);
int crsap_update_parse(const void *body, size_t len, struct crsap_update *u,
		       char *err, size_t errlen);
int crsap_update_build(const struct crsap_update *u, char **out,
		       size_t *out_len);
int crsap_nac_parse(const void *body, size_t len, struct crsap_nac *m,
		    char *err, size_t errlen);
int crsap_nac_build(const struct crsap_nac *m, char **out, size_t *out_len);

int crsap_report_parse(const void *body, size_t len, struct crsap_report *r,
		       char *err, size_t errlen);
int crsap_report_build(const struct crsap_report *r, char **out,
		       size_t *out_len);
int crsap_response_parse(const void *body, size_t len,
			 struct crsap_response *r, char *err, size_t errlen);
int crsap_response_build(const struct crsap_response *r, char **out,
			 size_t *out_len);

/* Per-terminal keys, from a file of lines "ID ADDRESS KEY": ADDRESS is the
 * terminal's subscriber address, or "peer" for the address the report
 * arrives from; KEY is 32..128 hex digits. '#' starts a comment. The file
 * must not be readable by group or others. An empty path is an empty
 * keyring (keys come from xcrs-authsrv only). */
struct crsap_key {
	char id[CRSAP_ID_MAX + 1];
	/* the subscriber behind the key ("imsi:DIGITS"; "" = not known):
	 * a key file's fourth column, or the identity authsrv released */
	char subscriber[24];
	bool peer;
	struct xcrs_addr addr;
	uint8_t key[CRSAP_KEY_MAX];
	size_t keylen;
};
struct crsap_keyring {
	struct crsap_key *keys;
	size_t nkeys;
};
/* 0, or -errno with "file:line: ..." in err. */
int crsap_keyring_load(const char *path, struct crsap_keyring **ret,
		       char *err, size_t errlen);
const struct crsap_key *crsap_keyring_find(const struct crsap_keyring *kr,
					   const char *id);
void crsap_keyring_free(struct crsap_keyring *kr);

/* Nonces seen, each kept until it could no longer pass the skew check. */
struct crsap_replay;
int crsap_replay_new(size_t capacity, struct crsap_replay **ret);
void crsap_replay_free(struct crsap_replay *rp);
/* 0 if (id, nonce) is new (now remembered until expire_ms), -EALREADY if
 * seen, -ENOSPC if the cache is full of live entries. */
int crsap_replay_add(struct crsap_replay *rp, const char *id,
		     const char *nonce, uint64_t expire_ms, uint64_t now_ms);
size_t crsap_replay_count(const struct crsap_replay *rp);

enum crsap_verdict {
	CRSAP_OK = 0,
	CRSAP_MALFORMED,	/* not a frame, not a valid report */
	CRSAP_UNKNOWN,		/* no key for the terminal id */
	CRSAP_FORGED,		/* MAC does not match */
	CRSAP_STALE,		/* timestamp outside the skew */
	CRSAP_REPLAYED,		/* nonce seen before */
	CRSAP_BUSY,		/* replay cache full: refused, not trusted */
	CRSAP_MISMATCH,		/* the key's subscriber is not the one whose
				 * session holds the address */
	CRSAP_VERDICT_MAX
};
const char *crsap_verdict_to_string(enum crsap_verdict v);

/* Authenticates and parses one report frame (buf/len exclude the length
 * prefix). On CRSAP_OK, *r holds the report and *ret_key the terminal's
 * key entry; otherwise err says why. */
enum crsap_verdict crsap_verify_report(const struct crsap_keyring *kr,
				       struct crsap_replay *rp,
				       const uint8_t *buf, size_t len,
				       uint64_t now_ms, uint64_t max_skew_ms,
				       struct crsap_report *r,
				       const struct crsap_key **ret_key,
				       char *err, size_t errlen);

/* A message from an SCA on its TLS connection: an SCI report or a probe
 * response. */
enum crsap_sca_kind {
	CRSAP_SCA_REPORT = 0,
	CRSAP_SCA_PROBE_RESPONSE,
};
struct crsap_sca_msg {
	enum crsap_sca_kind kind;
	struct crsap_report report;
	struct crsap_probe_response probe;
};
/* Authenticates and parses one SCA frame (report or probe response) with
 * the checks of crsap_verify_report. */
enum crsap_verdict crsap_verify_sca(const struct crsap_keyring *kr,
				    struct crsap_replay *rp, const uint8_t *buf,
				    size_t len, uint64_t now_ms,
				    uint64_t max_skew_ms, struct crsap_sca_msg *m,
				    const struct crsap_key **ret_key, char *err,
				    size_t errlen);

/* Probe requests go to MSs whose key the SCS may not know yet (an MS
 * without an SCA, or one that bootstraps with X.1124): when it has none for
 * the MS's address it MACs them with this public key, which gives
 * integrity, not authenticity. A probe only asks the SCA to answer its own
 * configured SCS, over TLS, authenticated with its own key. */
#define CRSAP_PROBE_KEY_LABEL "xcrs crsap probe v1"
void crsap_probe_key(uint8_t key[CRSAP_MAC_LEN]);

#endif
