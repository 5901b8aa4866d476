/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xcrs-agent internals shared by its files: the event loop's watches, the
 * agent's state, and the calls between the loop (agent.c), the inputs
 * (inputs.c: EVE file, unix sockets, TLS report listener) and the control
 * socket (control.c). Not a library interface.
 */
#ifndef XCRS_AGENT_H
#define XCRS_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "audit.h"
#include "correlate.h"
#include "crsap.h"
#include "dataplane.h"
#include "decide.h"
#include "enforce.h"
#include "msstate.h"
#include "policy.h"

struct agent;
struct watch;
typedef void (*watch_fn)(struct agent *ag, struct watch *w, uint32_t events);

/* One fd in the epoll set. */
struct watch {
	int fd;
	uint32_t events;
	watch_fn fn;
};

int watch_add(struct agent *ag, struct watch *w, int fd, uint32_t events,
	      watch_fn fn);
int watch_mod(struct agent *ag, struct watch *w, uint32_t events);
/* Removes w from the set and closes its fd. */
void watch_close(struct agent *ag, struct watch *w);
/* Removes w from the set; its fd stays open (someone else owns it). */
void watch_forget(struct agent *ag, struct watch *w);

/* Counters (xcrsctl stats). */
enum agent_counter {
	C_REPORTS_OK,
	C_REPORTS_REFUSED, /* + per verdict below */
	C_TLS_FAILED,
	C_EVE_LINES,
	C_EVE_ALERTS,
	C_EVENTS_LINES,
	C_INPUT_MALFORMED,
	C_INPUT_NOT_SUBSCRIBER,
	C_INPUT_OVERLONG,
	C_FANOUT,
	C_DECISIONS,
	C_NOTICES_SENT,
	C_CONTROL_REQUESTS,
	C_RELOADS,
	C_RELOADS_FAILED,
	C_DATAPLANE_ERRORS,
	C_MS_CONNECTS,
	C_MS_LEAVES,
	C_SESSIONS_LINES,
	C_REACTIONS,	/* terminal set to a new effective level */
	C_RELEASES,	/* terminal released */
	C_CONTAINS,
	C_UNCONTAINS,
	C_METRICS_SCRAPES,
	C_NEVER_REFUSED, /* decisions refused: terminal on never_react */
	C_MAX
};


enum input_kind {
	IN_EVE = 0,
	IN_EVENTS,
	IN_CONTROL,
	IN_SESSIONS,
};

struct gbakeys;
struct metrics;
struct pdec;
struct input;
struct tconn;
struct lclient;

struct agent {
	int epfd;
	bool running;
	const char *policy_path;
	struct policy *policy;
	struct decide *dec;	/* every decision goes through it */
	struct enforce *enf;	/* the only writer of the dataplane */
	struct audit *audit;
	struct dp *dp;		/* for reading (stats, show, events) */
	struct crsap_keyring *keys;
	struct gbakeys *gba;	/* keys from xcrs-authsrv, or NULL */
	struct mstab ms;	/* MSs between connect and leave */
	int probe_fd;		/* UDP socket SCA probes leave from */
	struct campaign *campaigns; /* update campaigns, newest first */
	struct peers *peers;	    /* roaming: peer SCSs, or NULL */
	unsigned campaign_seq;
	struct watch probe_timer;
	struct crsap_replay *replay;
	SSL_CTX *tls;

	struct watch sig, timer, housekeeping, dp_events, control, reports,
		state_timer;
	bool state_save_armed;
	struct input *inputs; /* EVE files and event sockets */
	struct lclient *clients;
	struct tconn *tconns;
	size_t ntconns;

	uint64_t counters[C_MAX];
	/* reaction latency: when the input being handled was read (0 when
	 * none is) */
	uint64_t input_t0;
	struct metrics *metrics;
	uint64_t refused[CRSAP_VERDICT_MAX];
	uint64_t started_mono, started_real_ms;
	/* while a report of this terminal is being answered, its notices go
	 * into the answer instead */
	const struct xcrs_addr *answering;
};

/* The state file is written at most this often (ms). */
#define STATE_SAVE_MS 20

/* agent.c */
bool agent_is_subscriber(void *ag, const struct xcrs_addr *a);
/* Feeds one event to the decision layer. */
int agent_ingest(struct agent *ag, const struct corr_event *ev);
int agent_reload(struct agent *ag, char *err, size_t errlen);
/* Every counter of xcrsctl stats, from their owners. */
void agent_stats(const struct agent *ag, uint64_t c[C_MAX]);
/* The level a terminal falls back to without reactions: its static
 * entry's, its pool's, or -1 (the default for unknown subscribers). */
int agent_base_level(const struct agent *ag, const struct xcrs_addr *a);
/* The SCI response describing a terminal's current control. */
void agent_describe(struct agent *ag, const struct xcrs_addr *a,
		    const char *ms, const char *evaluation,
		    struct crsap_response *r);
/* Frees clients and connections closed during the last batch. */
void inputs_reap(struct agent *ag);
/* After each loop wake-up: the engine's deadline and the state file's
 * save timer follow what changed. */
void agent_after_change(struct agent *ag);

/* ms.c: the MS lifecycle (X.1125 11.1, 11.6) */
/* An MS is there (first traffic, the operator's feed, a report). */
void ms_connect(struct agent *ag, const struct xcrs_addr *a,
		const char *source);
/* An MS has gone (idle, feed): its state and control are released. */
void ms_leave(struct agent *ag, const struct xcrs_addr *a, const char *cause);
/* Housekeeping: MSs idle past the policy's timeout leave. */
void ms_housekeeping(struct agent *ag);
/* One line of the operator's session feed. */
void ms_feed_line(struct agent *ag, const char *src, char *line, size_t len);
/* The MSs as a JSON array (xcrsctl ms). */
json_object *ms_json(struct agent *ag);
/* Discovery (11.1, 11.3): the SCA answered a probe / sent a valid report
 * (which ends a hold at the SCA download service). */
void ms_probe_answered(struct agent *ag, const struct xcrs_addr *a,
		       const char *sca_id, const char *sca_version);
void ms_reported(struct agent *ag, const struct xcrs_addr *a,
		 const char *sca_id);
/* The probe socket and timer (when the policy probes). */
int ms_probe_open(struct agent *ag, char *err, size_t errlen);
void ms_probe_close(struct agent *ag);

/* The remediation description of rule j of service s. */
void agent_service_rule(const struct policy_service *s, size_t j,
			struct crsap_remediation *m);
/* A terminal's report key (key file, else authsrv's cache), or NULL. */
const struct crsap_key *agent_report_key(struct agent *ag, const char *id);

/* peers.c: roaming between SCSs (X.1125 13) */
struct peers;
int peers_open(struct agent *ag, char *err, size_t errlen);
/* What peers_set_policy would refuse in np. */
int peers_check(const struct policy *p, char *err, size_t errlen);
/* Reload: takes np's peer list (questions in flight keep their own copies).
 * 0 or -errno with err; on error the old list stays. */
int peers_set_policy(struct agent *ag, const struct policy *np, char *err,
		     size_t errlen);
void peers_close(struct agent *ag);
/* An MS connected here: ask every peer whether it holds its control. */
void peers_ask(struct agent *ag, const struct xcrs_addr *a);
/* The key of peer id, or NULL (not a peer). */
const struct crsap_key *peers_key(struct agent *ag, const char *id);
/* A peer's question (an MS connect report) on the report listener: the
 * answer frame in *out (malloc'd). 0 or -errno with err. */
int peers_answer(struct agent *ag, const struct crsap_key *k,
		 const uint8_t *buf, size_t len, uint8_t **out, size_t *olen,
		 char *err, size_t errlen);

/* update.c: large-scale updating (X.1125 12.1) */
struct campaign;
/* A scope was contained by rule: if the rule asks for updates, instruct
 * the scope's connected MSs, staggered over its window. */
void update_start(struct agent *ag, const char *rule, int scope);
/* A report of MS a: counts as compliance when it says the update is done. */
void update_report(struct agent *ag, const struct xcrs_addr *a,
		   const struct crsap_report *r);
json_object *updates_json(struct agent *ag);
void updates_free(struct agent *ag);

/* metrics.c: Prometheus /metrics on agent.metrics */
int metrics_open(struct agent *ag, char *err, size_t errlen);
void metrics_close(struct agent *ag);
void metrics_housekeeping(struct agent *ag);
void metrics_reap(struct agent *ag);
/* "address:port", "[v6]:port" or "*:port" into a socket address. */
int listen_addr_parse(const char *s, struct sockaddr_storage *ss,
		      socklen_t *sl);

int inputs_open(struct agent *ag, char *err, size_t errlen);
void inputs_close(struct agent *ag);
int reports_open(struct agent *ag, char *err, size_t errlen);
void reports_close(struct agent *ag);
/* Loads cert/key into a new SSL_CTX (for --check and reload). */
SSL_CTX *reports_tls_ctx(const struct policy_reports *r, char *err,
			 size_t errlen);
/* Sends a reaction notice to every open report connection of the terminal;
 * returns how many got it. */
int reports_notify(struct agent *ag, const struct xcrs_addr *a);
/* Closes report connections idle or stuck in the handshake too long. */
void reports_housekeeping(struct agent *ag);
size_t inputs_describe(struct agent *ag, json_object *arr);
/* A listening unix socket at path (stale socket replaced), mode given. */
int unix_listen(const char *path, mode_t mode, char *err, size_t errlen);
/* A line-oriented client of a listening socket (events or control). */
struct input_stats;
void lclient_accept(struct agent *ag, int lfd, enum input_kind kind,
		    const char *name, struct input_stats *st);
/* Queues bytes to a control client and closes it once written. */
void lclient_reply(struct agent *ag, struct lclient *c, const char *s,
		   size_t len);
void clients_close(struct agent *ag);

/* control.c: one request line, one JSON reply. */
void control_request(struct agent *ag, struct lclient *c, const char *line,
		     size_t len);

#endif
