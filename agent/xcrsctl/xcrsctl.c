// SPDX-License-Identifier: GPL-2.0-only
/* xcrsctl: the operator's command line for a running xcrs-agent. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config.h"
#include "lineproto.h"

#define SOCKET_DEFAULT "/run/xcrs/agent.sock"

enum { EXIT_AGENT = 1, EXIT_USAGE = 2, EXIT_CONNECT = 3 };

static void usage(FILE *f)
{
	fprintf(f,
"Usage: xcrsctl [-s SOCKET] [--json] COMMAND [ARGS]\n"
"\n"
"Talks to a running xcrs-agent over its control socket.\n"
"\n"
"Commands:\n"
"  status                          policy, interfaces, scopes, inputs\n"
"  terminals [--level L] [--scope S] [--rule R]\n"
"                                  terminals with a reaction: level, reason,\n"
"                                  expiry (only those matching the filters)\n"
"  show ADDR                       one terminal: scope, base level, reaction,\n"
"                                  dataplane entry, packet counters, the\n"
"                                  subscriber whose session holds it\n"
"  show imsi:N|msisdn:N|user:NAME  one subscriber: its decision, escalation\n"
"                                  history (offences) and sessions\n"
"                                  (addresses, APN, location, scope)\n"
"  react imsi:N|msisdn:N|user:NAME --level LEVEL [--for D] [--reason T]\n"
"                                  a subscriber's decision: on every address\n"
"                                  it holds and every one it gets later\n"
"  release imsi:N|msisdn:N|user:NAME\n"
"                                  end the subscriber's decision everywhere\n"
"  react ADDR|PREFIX --level LEVEL [--for DURATION] [--reason TEXT]\n"
"                                  the operator's reaction (without --for:\n"
"                                  agent.operator_for, else until\n"
"                                  released); a prefix\n"
"                                  (192.0.2.64/28, 2001:db8:1::/48) holds\n"
"                                  every address in it without its own\n"
"                                  entry\n"
"  release --all [--yes]           every terminal's reactions and every\n"
"                                  prefix decision (without --yes: says\n"
"                                  how many, changes nothing)\n"
"  release ADDR|PREFIX             end every reaction of ADDR, or the\n"
"                                  decision on exactly PREFIX\n"
"  forget ADDR|SUBSCRIBER          reset the offence history (escalation):\n"
"                                  its next rule reaction counts as a first\n"
"  export [FILE]                   the decisions in force (terminals,\n"
"                                  prefixes) as JSON, to FILE or stdout\n"
"  import [--dry-run] [FILE]       an export's decisions as operator\n"
"                                  reactions with the time they have left\n"
"                                  (FILE or stdin; checked whole first)\n"
"  scope NAME contain [--mode isolate|no-lateral] [--for DURATION]\n"
"                                  contain a scope (mode: the policy's unless\n"
"                                  given)\n"
"  scope NAME release              end a scope's containment\n"
"  reload [--dry-run | --release]  re-read the policy file (atomic; an\n"
"                                  invalid file is refused with its error);\n"
"                                  prints what it changes. A reload that\n"
"                                  would end decisions (a level or scope\n"
"                                  gone, levels[].was not carrying them)\n"
"                                  is refused unless --release; --dry-run\n"
"                                  checks and lists, changes nothing\n"
"  stats                           agent counters and dataplane statistics\n"
"  ms                              MSs between connect and leave: since when,\n"
"                                  how seen, SCA present, probes unanswered\n"
"  sessions [--apn APN] [--location LOC]\n"
"                                  the packet core's sessions (inputs.radius,\n"
"                                  the session feed), of one APN / at a location\n"
"                                  starting with LOC (tai:001-01-0001, ecgi:…):\n"
"                                  subscriber, IPv4, IPv6 /64, APN, location,\n"
"                                  the subscriber's level\n"
"  updates                         update campaigns (outbreaks): instructed,\n"
"                                  complied, pending MSs\n"
"\n"
"Options:\n"
"  -s, --socket PATH  control socket [$XCRS_SOCKET, else " SOCKET_DEFAULT "]\n"
"  -j, --json         print the agent's JSON reply as it is\n"
"  -h, --help         this text\n"
"  -V, --version      the version\n"
"\n"
"DURATION is like 30s, 10m, 1h30m, 2d. Exit status: 0 done; 1 the agent\n"
"refused (its error is printed); 2 usage error; 3 the agent cannot be\n"
"reached.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "xcrsctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'xcrsctl --help'.\n");
	return EXIT_USAGE;
}

static int request(const char *path, json_object *req, json_object **ret)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 60};
	const char *s = json_object_to_json_string_ext(req,
						       JSON_C_TO_STRING_PLAIN);
	size_t len = strlen(s), cap = 65536, got = 0;
	char *buf;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "xcrsctl: %s: path too long\n", path);
		return EXIT_CONNECT;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr,
			"xcrsctl: cannot reach the agent at %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_CONNECT;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (write(fd, s, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
		fprintf(stderr, "xcrsctl: sending to %s: %s\n", path,
			strerror(errno));
		close(fd);
		return EXIT_CONNECT;
	}
	buf = malloc(cap);
	for (;;) {
		ssize_t n;

		if (!buf) {
			close(fd);
			return EXIT_CONNECT;
		}
		if (got + 1 >= cap) {
			char *b = realloc(buf, cap *= 2);

			if (!b) {
				free(buf);
				close(fd);
				return EXIT_CONNECT;
			}
			buf = b;
		}
		n = read(fd, buf + got, cap - got - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "xcrsctl: reading from %s: %s\n", path,
				strerror(errno));
			free(buf);
			close(fd);
			return EXIT_CONNECT;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*ret = json_tokener_parse(buf);
	free(buf);
	if (!*ret || !json_object_is_type(*ret, json_type_object)) {
		fprintf(stderr, "xcrsctl: the agent's reply is not JSON\n");
		json_object_put(*ret);
		return EXIT_CONNECT;
	}
	return 0;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    json_object_is_type(v, json_type_null))
		return "-";
	return json_object_get_string(v);
}

/* The same, "" when absent (what a document left out). */
static const char *str0(json_object *o, const char *k)
{
	const char *v = str(o, k);

	return strcmp(v, "-") ? v : "";
}

static json_object *arr(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

static void print_terminal_row(json_object *t)
{
	printf("%-40s %-12s %-14s %-25s %-18s %s\n", str(t, "terminal"),
	       *str(t, "scope") ? str(t, "scope") : "-", str(t, "level"),
	       str(t, "until"), str(t, "rule"), str(t, "reason"));
}

static void print_terminals(json_object *r)
{
	json_object *a = arr(r, "terminals"), *p = arr(r, "prefixes");
	size_t n = a ? json_object_array_length(a) : 0,
	       np = p ? json_object_array_length(p) : 0;

	if (!n && !np) {
		printf("no terminal has a reaction\n");
		return;
	}
	if (n) {
		printf("%-40s %-12s %-14s %-25s %-18s %s\n", "TERMINAL",
		       "SCOPE", "LEVEL", "UNTIL", "RULE", "REASON");
		for (size_t i = 0; i < n; i++)
			print_terminal_row(json_object_array_get_idx(a, i));
	}
	if (np) {
		printf("%s%-44s %-14s %-25s %s\n", n ? "\n" : "", "PREFIX",
		       "LEVEL", "UNTIL", "REASON");
		for (size_t i = 0; i < np; i++) {
			json_object *o = json_object_array_get_idx(p, i);
			const char *u = str(o, "until");

			printf("%-44s %-14s %-25s %s\n", str(o, "prefix"),
			       str(o, "level"), u[0] ? u : "-", str(o, "why"));
		}
	}
}

static void print_sessions(json_object *r)
{
	json_object *a = arr(r, "sessions");
	size_t n = a ? json_object_array_length(a) : 0;

	if (!n) {
		printf("no session (inputs.radius)\n");
		return;
	}
	printf("%-22s %-16s %-24s %-18s %-34s %s\n", "SUBSCRIBER", "IPV4",
	       "IPV6 PREFIX", "APN", "LOCATION", "LEVEL");
	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(a, i);
		const char *v4 = str(m, "ipv4"), *v6 = str(m, "ipv6_prefix"),
			   *lv = str(m, "level");

		printf("%-22s %-16s %-24s %-18s %-34s %s\n",
		       str(m, "subscriber"), v4[0] ? v4 : "-", v6[0] ? v6 : "-",
		       str(m, "apn"), str(m, "location"), lv[0] ? lv : "-");
	}
}

static void print_ms(json_object *r)
{
	json_object *a = arr(r, "ms");
	size_t n = a ? json_object_array_length(a) : 0;

	if (!n) {
		printf("no MS is connected\n");
		return;
	}
	printf("%-40s %-25s %-14s %-4s %-6s %s\n", "TERMINAL", "SINCE", "SEEN BY",
	       "SCA", "PROBES", "REDIRECTED");
	for (size_t i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(a, i);

		printf("%-40s %-25s %-14s %-4s %-6s %s\n", str(m, "terminal"),
		       str(m, "since"), str(m, "source"),
		       strcmp(str(m, "sca"), "true") ? "no" : "yes",
		       str(m, "probes"),
		       strcmp(str(m, "redirected"), "true") ? "no" : "yes");
	}
}

static void print_updates(json_object *r)
{
	json_object *a = arr(r, "updates");
	size_t n = a ? json_object_array_length(a) : 0;

	if (!n) {
		printf("no update campaign\n");
		return;
	}
	printf("%-20s %-12s %-11s %-10s %-9s %-25s %s\n", "CAMPAIGN", "SCOPE",
	       "WHAT", "INSTRUCTED", "COMPLIED", "DEADLINE", "PENDING");
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(a, i), *p;
		char pend[512] = "";

		if ((p = arr(c, "pending")))
			for (size_t j = 0; j < json_object_array_length(p); j++)
				snprintf(pend + strlen(pend),
					 sizeof(pend) - strlen(pend), "%s%s",
					 j ? "," : "",
					 json_object_get_string(
						 json_object_array_get_idx(p, j)));
		printf("%-20s %-12s %-11s %-10s %-9s %-25s %s%s\n",
		       str(c, "campaign"), str(c, "scope"), str(c, "what"),
		       str(c, "instructed"), str(c, "complied"),
		       str(c, "deadline"), pend[0] ? pend : "-",
		       strcmp(str(c, "overdue"), "true") ? "" : " (OVERDUE)");
	}
}

static void print_status(json_object *r)
{
	json_object *a;

	printf("policy:      %s (sha256 %.16s..., loaded %s)\n",
	       str(r, "policy"), str(r, "policy_sha256"),
	       str(r, "policy_loaded"));
	printf("uptime:      %s s\n", str(r, "uptime_s"));
	printf("reacted:     %s terminal(s)\n", str(r, "reacted_terminals"));
	if ((a = arr(r, "interfaces")))
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *f = json_object_array_get_idx(a, i);

			bool on = !strcmp(str(f, "attached"), "true");

			printf("interface:   %-16s %-7s %s%s%s\n", str(f, "name"),
			       str(f, "role"), on ? "attached" : "NOT ATTACHED",
			       on ? " via " : "", on ? str(f, "via") : "");
		}
	if ((a = arr(r, "scopes")))
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *s = json_object_array_get_idx(a, i);

			printf("scope:       %-16s %s", str(s, "scope"),
			       str(s, "containment"));
			if (strcmp(str(s, "containment"), "none"))
				printf(" until %s (%s)", str(s, "until"),
				       str(s, "rule"));
			printf("\n");
		}
	if ((a = arr(r, "inputs")))
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *s = json_object_array_get_idx(a, i);

			printf("input:       %-13s %s (%s lines, %s alerts, "
			       "%s malformed)\n",
			       str(s, "kind"), str(s, "path"), str(s, "lines"),
			       str(s, "alerts"), str(s, "malformed"));
		}
	{
		json_object *fl;

		if (json_object_object_get_ex(r, "fleet", &fl) && fl)
			printf("fleet:       node %s, %s%s, %s, revision %s, "
			       "%s decision key(s), %s pending write(s), %s "
			       "queued event(s)\n",
			       str(fl, "node"),
			       !strcmp(str(fl, "connected"), "true") ?
				       "connected to " :
				       "CUT OFF",
			       !strcmp(str(fl, "connected"), "true") ?
				       str(fl, "server") :
				       "",
			       !strcmp(str(fl, "synced"), "true") ? "synced" :
								    "loading",
			       str(fl, "revision"), str(fl, "decision_keys"),
			       str(fl, "pending_writes"),
			       str(fl, "queued_events"));
	}
	{
		json_object *rp;

		if (json_object_object_get_ex(r, "reports", &rp))
			printf("reports:     %s (%s connections, %s terminal "
			       "keys)\n",
			       str(rp, "listen"), str(rp, "connections"),
			       str(rp, "terminal_keys"));
	}
}

static void print_subscriber(json_object *u)
{
	json_object *v, *a;

	printf("subscriber:  %s\n", str(u, "subscriber"));
	if (json_object_object_get_ex(u, "msisdn", &v))
		printf("msisdn:      %s\n", str(u, "msisdn"));
	if (json_object_object_get_ex(u, "imeisv", &v))
		printf("imeisv:      %s\n", str(u, "imeisv"));
	if (json_object_object_get_ex(u, "decision", &v) && v)
		printf("decision:    %s until %s (%s)\n", str(v, "level"),
		       strcmp(str(v, "until"), "-") ? str(v, "until") :
						      "released",
		       str(v, "reason"));
	else
		printf("decision:    none\n");
	if (json_object_object_get_ex(u, "fleet", &v) && v) {
		json_object *fa = arr(v, "decisions");

		for (size_t i = 0; fa && i < json_object_array_length(fa);
		     i++) {
			json_object *x = json_object_array_get_idx(fa, i);

			long long ms = atoll(str(x, "until_ms"));
			char until[40] = "released";
			time_t t = (time_t)(ms / 1000);
			struct tm tm;

			if (ms > 0 && gmtime_r(&t, &tm)) {
				strftime(until, sizeof(until),
					 "%Y-%m-%dT%H:%M:%S", &tm);
				snprintf(until + strlen(until),
					 sizeof(until) - strlen(until),
					 ".%03lldZ", ms % 1000);
			}
			printf("fleet:       node %s: %s until %s (%s)\n",
			       str(x, "node"), str(x, "level"), until,
			       str(x, "why"));
		}
		fa = arr(v, "sessions");
		for (size_t i = 0; fa && i < json_object_array_length(fa);
		     i++) {
			json_object *x = json_object_array_get_idx(fa, i);
			json_object *ss = arr(x, "sessions");

			for (size_t k = 0;
			     ss && k < json_object_array_length(ss); k++) {
				json_object *y =
					json_object_array_get_idx(ss, k);

				printf("fleet:       node %s holds session %s "
				       "of %s: %s %s, APN %s, at %s\n",
				       str(x, "node"), str(y, "session"),
				       str(y, "nas"),
				       *str(y, "ipv4") ? str(y, "ipv4") : "-",
				       *str(y, "ipv6_prefix") ?
					       str(y, "ipv6_prefix") :
					       "-",
				       *str(y, "apn") ? str(y, "apn") : "-",
				       *str(y, "location") ?
					       str(y, "location") :
					       "-");
			}
		}
	}
	a = arr(u, "sessions");
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		json_object *x = json_object_array_get_idx(a, i);

		printf("session:     %s of %s since %s: %s %s, APN %s, at %s, "
		       "scope %s\n",
		       str(x, "session"), str(x, "nas"), str(x, "since"),
		       *str(x, "ipv4") ? str(x, "ipv4") : "-",
		       *str(x, "ipv6_prefix") ? str(x, "ipv6_prefix") : "-",
		       *str(x, "apn") ? str(x, "apn") : "-",
		       *str(x, "location") ? str(x, "location") : "-",
		       *str(x, "scope") ? str(x, "scope") : "-");
	}
	if (!a || !json_object_array_length(a))
		printf("session:     none (not attached)\n");
	a = arr(u, "offences");
	for (size_t i = 0; a && i < json_object_array_length(a); i++)
		printf("offence:     %s\n",
		       json_object_get_string(json_object_array_get_idx(a, i)));
}

static void print_show(json_object *r)
{
	json_object *v;

	if (json_object_object_get_ex(r, "subscriber", &v) &&
	    json_object_is_type(v, json_type_object)) {
		print_subscriber(v);
		return;
	}
	printf("terminal:    %s\n", str(r, "terminal"));
	if (json_object_object_get_ex(r, "holder", &v))
		printf("held by:     %s (its session)\n", str(r, "holder"));
	printf("subscriber:  %s\n",
	       !strcmp(str(r, "subscriber"), "true") ? "yes" : "no (unknown)");
	printf("scope:       %s\n", *str(r, "scope") ? str(r, "scope") : "-");
	printf("base level:  %s\n", str(r, "base_level"));
	if (json_object_object_get_ex(r, "reaction", &v) && v)
		printf("reaction:    %s until %s (rule %s: %s; %s in force)\n",
		       str(v, "level"), str(v, "until"), str(v, "rule"),
		       str(v, "reason"), str(v, "reactions"));
	else
		printf("reaction:    none\n");
	if (json_object_object_get_ex(r, "dataplane", &v) && v)
		printf("dataplane:   level %s until %s, then %s (scope id %s)\n",
		       str(v, "level"), str(v, "until"), str(v, "then"),
		       str(v, "scope_id"));
	else
		printf("dataplane:   no host entry (pool or default applies)\n");
	if (json_object_object_get_ex(r, "verdict", &v) && v) {
		static const struct {
			const char *by, *words;
		} bys[] = {
			{ "never-react", "never reacted to" },
			{ "host-entry", "its host entry" },
			{ "session-prefix", "its session's /64" },
			{ "prefix-decision", "a decision on a prefix" },
			{ "pool", "its address pool" },
			{ "unknown-default", "no subscriber: the default of "
					     "unknown_subscribers" },
		};
		const char *by = str(v, "by"), *words = by;
		json_object *x;

		for (size_t i = 0; i < sizeof(bys) / sizeof(bys[0]); i++)
			if (!strcmp(by, bys[i].by))
				words = bys[i].words;
		printf("verdict:     %s, by %s", str(v, "level"), words);
		if (json_object_object_get_ex(v, "detail", &x))
			printf(" (%s)", json_object_get_string(x));
		if (json_object_object_get_ex(v, "until", &x))
			printf(" until %s", json_object_get_string(x));
		if (json_object_object_get_ex(v, "contained", &x))
			printf("; scope %s is contained",
			       json_object_get_string(x));
		printf("\n");
	}
	if (json_object_object_get_ex(r, "counters", &v) && v)
		printf("packets:     %s passed (%s bytes), %s dropped (%s "
		       "bytes)\n",
		       str(v, "pass_packets"), str(v, "pass_bytes"),
		       str(v, "drop_packets"), str(v, "drop_bytes"));
	v = arr(r, "offences");
	for (size_t i = 0; v && i < json_object_array_length(v); i++)
		printf("offence:     %s\n",
		       json_object_get_string(json_object_array_get_idx(v, i)));
}

static void print_stats(json_object *r)
{
	json_object *a, *v;

	if (json_object_object_get_ex(r, "agent", &a)) {
		json_object_object_foreach(a, k, val)
		{
			if (!json_object_is_type(val, json_type_object)) {
				printf("%-26s %s\n", k,
				       json_object_get_string(val));
				continue;
			}
			{
				json_object_object_foreach(val, k2, v2)
				{
					printf("  %-24s %s\n", k2,
					       json_object_get_string(v2));
				}
			}
		}
	}
	if ((v = arr(r, "dataplane"))) {
		printf("\n%-6s %-22s %14s %16s\n", "ACTION", "REASON",
		       "PACKETS", "BYTES");
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			json_object *e = json_object_array_get_idx(v, i);

			printf("%-6s %-22s %14s %16s\n", str(e, "action"),
			       str(e, "reason"), str(e, "packets"),
			       str(e, "bytes"));
		}
	}
}

/* Keeps the rows of terminals (and prefixes, which have a level only)
 * that match every filter given. */
static void filter_terminals(json_object *rep, const char *level,
			     const char *scope, const char *rule)
{
	static const char *const keys[] = { "terminals", "prefixes" };

	for (size_t k = 0; k < 2; k++) {
		json_object *a = arr(rep, keys[k]), *keep;
		size_t n = a ? json_object_array_length(a) : 0;

		if (!a)
			continue;
		keep = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_array_get_idx(a, i);

			if ((level && strcmp(str(o, "level"), level)) ||
			    (scope && (k || strcmp(str(o, "scope"), scope))) ||
			    (rule && (k || strcmp(str(o, "rule"), rule))))
				continue;
			json_object_array_add(keep, json_object_get(o));
		}
		json_object_object_add(rep, keys[k], keep);
	}
}

/* release --all: every terminal with a reaction and every prefix
 * decision, one release each; without yes, only what it would do. */
static int release_all(const char *sock, bool yes)
{
	json_object *req = json_tokener_parse("{\"cmd\":\"terminals\"}"),
		    *rep = NULL;
	static const char *const keys[] = { "terminals", "prefixes" };
	static const char *const names[] = { "terminal", "prefix" };
	size_t total = 0, done = 0, failed = 0;
	int rc = request(sock, req, &rep);

	json_object_put(req);
	if (rc)
		return rc;
	for (size_t k = 0; k < 2; k++) {
		json_object *a = arr(rep, keys[k]);

		total += a ? json_object_array_length(a) : 0;
	}
	if (!yes) {
		printf("release --all would end the reactions of %zu terminal%s "
		       "and prefix%s: add --yes to do it\n",
		       total, total == 1 ? "" : "s", total == 1 ? "" : "es");
		json_object_put(rep);
		return total ? EXIT_USAGE : 0;
	}
	for (size_t k = 0; k < 2; k++) {
		json_object *a = arr(rep, keys[k]);
		size_t n = a ? json_object_array_length(a) : 0;

		for (size_t i = 0; i < n; i++) {
			const char *t = str(json_object_array_get_idx(a, i),
					    names[k]);
			json_object *r2 = NULL, *ok2, *q = json_object_new_object();

			json_object_object_add(q, "cmd",
					       json_object_new_string("release"));
			json_object_object_add(q, "terminal",
					       json_object_new_string(t));
			rc = request(sock, q, &r2);
			json_object_put(q);
			if (rc) {
				json_object_put(rep);
				return rc;
			}
			if (json_object_object_get_ex(r2, "ok", &ok2) &&
			    json_object_get_boolean(ok2)) {
				printf("%s: released\n", t);
				done++;
			} else {
				fprintf(stderr, "xcrsctl: release %s: %s\n", t,
					str(r2, "error"));
				failed++;
			}
			json_object_put(r2);
		}
	}
	json_object_put(rep);
	printf("%zu released, %zu refused\n", done, failed);
	return failed ? EXIT_AGENT : 0;
}

/* export: the decisions in force (terminals' effective reactions, prefix
 * decisions) as one JSON document, for import into this or another
 * agent. */
static int decisions_export(const char *sock, const char *path)
{
	json_object *req = json_tokener_parse("{\"cmd\":\"terminals\"}"),
		    *rep = NULL, *doc = json_object_new_object();
	static const char *const keys[] = { "terminals", "prefixes" };
	FILE *f = stdout;
	int rc = request(sock, req, &rep);

	json_object_put(req);
	if (rc) {
		json_object_put(doc);
		return rc;
	}
	json_object_object_add(doc, "xcrs_decisions", json_object_new_int(1));
	json_object_object_add(doc, "exported",
			       json_object_new_int64((int64_t)time(NULL)));
	for (size_t k = 0; k < 2; k++) {
		json_object *a = arr(rep, keys[k]);

		json_object_object_add(doc, keys[k],
				       a ? json_object_get(a) :
					   json_object_new_array());
	}
	json_object_put(rep);
	if (path && strcmp(path, "-") && !(f = fopen(path, "w"))) {
		fprintf(stderr, "xcrsctl: export: %s: %s\n", path,
			strerror(errno));
		json_object_put(doc);
		return EXIT_USAGE;
	}
	fprintf(f, "%s\n", json_object_to_json_string_ext(
				  doc, JSON_C_TO_STRING_PRETTY |
					       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
	if (f != stdout && fclose(f)) {
		fprintf(stderr, "xcrsctl: export: %s: %s\n", path,
			strerror(errno));
		return EXIT_USAGE;
	}
	return 0;
}

/* import: each decision of an export as an operator reaction (level, the
 * time it had left at the export less the time since, its rule and reason
 * in the reason); ones already over are skipped. All are checked first:
 * a document with a bad entry imports nothing. */
static int decisions_import(const char *sock, const char *path, bool dry)
{
	json_object *doc = path && strcmp(path, "-") ?
				   json_object_from_file(path) : NULL, *ver;
	static const char *const keys[] = { "terminals", "prefixes" };
	static const char *const names[] = { "terminal", "prefix" };
	size_t done = 0, failed = 0, skipped = 0;
	int64_t exported = 0, now = (int64_t)time(NULL);

	if (!path || !strcmp(path, "-")) {
		doc = json_object_from_fd(0);
		path = "standard input";
	}
	if (!doc || !json_object_object_get_ex(doc, "xcrs_decisions", &ver) ||
	    json_object_get_int(ver) != 1) {
		fprintf(stderr, "xcrsctl: import: %s: not an xcrsctl export "
				"(version 1): %s\n",
			path, doc ? "no \"xcrs_decisions\": 1" :
				    json_util_get_last_err());
		json_object_put(doc);
		return EXIT_USAGE;
	}
	if (json_object_object_get_ex(doc, "exported", &ver))
		exported = json_object_get_int64(ver);
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < 2; k++) {
			json_object *a = arr(doc, keys[k]);
			size_t n = a ? json_object_array_length(a) : 0;

			for (size_t i = 0; i < n; i++) {
				json_object *o = json_object_array_get_idx(a, i),
					    *q, *r2 = NULL, *v, *ok2;
				const char *t = str0(o, names[k]),
					   *lv = str0(o, "level");
				/* time left now; -1: until released */
				bool timed = json_object_object_get_ex(
						     o, "remaining_s", &v) &&
					     v;
				int64_t left = timed ?
						       json_object_get_int64(v) -
							       (exported ?
									now - exported :
									0) :
						       -1;
				char dur[32], why[512];
				int rc;

				if (!*t || !*lv) {
					if (pass == 1)
						continue;
					fprintf(stderr, "xcrsctl: import: %s: %s "
							"%zu has no %s\n",
						path, names[k], i + 1,
						*t ? "level" : names[k]);
					json_object_put(doc);
					return EXIT_USAGE;
				}
				if (pass == 0)
					continue;
				if (timed && left <= 0) {
					printf("%s: skipped (its reaction is "
					       "over)\n", t);
					skipped++;
					continue;
				}
				snprintf(why, sizeof(why), "imported (rule %s): %s",
					 *str0(o, "rule") ? str0(o, "rule") :
							   "operator",
					 *str0(o, "reason") ? str0(o, "reason") :
							     str0(o, "why"));
				snprintf(dur, sizeof(dur), "%llds",
					 (long long)left);
				if (dry) {
					printf("%s: would be %s %s%s\n", t, lv,
					       timed ? "for " : "until released",
					       timed ? dur : "");
					done++;
					continue;
				}
				q = json_object_new_object();
				json_object_object_add(q, "cmd",
						       json_object_new_string("react"));
				json_object_object_add(q, "terminal",
						       json_object_new_string(t));
				json_object_object_add(q, "level",
						       json_object_new_string(lv));
				if (timed)
					json_object_object_add(
						q, "for", json_object_new_string(dur));
				json_object_object_add(q, "reason",
						       json_object_new_string(why));
				rc = request(sock, q, &r2);
				json_object_put(q);
				if (rc) {
					json_object_put(doc);
					return rc;
				}
				if (json_object_object_get_ex(r2, "ok", &ok2) &&
				    json_object_get_boolean(ok2)) {
					printf("%s: %s\n", t, lv);
					done++;
				} else {
					fprintf(stderr, "xcrsctl: import %s: %s\n",
						t, str(r2, "error"));
					failed++;
				}
				json_object_put(r2);
			}
		}
	json_object_put(doc);
	printf("%zu %s, %zu skipped, %zu refused\n", done,
	       dry ? "would be imported (dry run)" : "imported", skipped,
	       failed);
	return failed ? EXIT_AGENT : 0;
}

static void print_reload(json_object *rep)
{
	json_object *ch, *dry;
	bool dry_run = json_object_object_get_ex(rep, "dry_run", &dry) &&
		       json_object_get_boolean(dry);
	size_t n = json_object_object_get_ex(rep, "changes", &ch) ?
			   json_object_array_length(ch) : 0;

	for (size_t i = 0; i < n; i++)
		printf("%s\n", json_object_get_string(
				       json_object_array_get_idx(ch, i)));
	if (dry_run)
		printf("dry run: the policy is valid; nothing was changed\n");
	else
		printf("ok\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"level", required_argument, NULL, 'l'},
		{"for", required_argument, NULL, 'f'},
		{"reason", required_argument, NULL, 'r'},
		{"mode", required_argument, NULL, 'm'},
		{"apn", required_argument, NULL, 'a'},
		{"location", required_argument, NULL, 'L'},
		{"dry-run", no_argument, NULL, 'n'},
		{"scope", required_argument, NULL, 'S'},
		{"all", no_argument, NULL, 'A'},
		{"yes", no_argument, NULL, 'Y'},
		{"rule", required_argument, NULL, 'U'},
		{"release", no_argument, NULL, 'R'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	const char *sock = getenv("XCRS_SOCKET"), *level = NULL, *dur = NULL,
		   *reason = NULL, *mode = NULL, *apn = NULL, *loc = NULL, *cmd,
		   *action = NULL, *f_scope = NULL, *f_rule = NULL,
		   *f_level = NULL;
	json_object *req, *rep = NULL, *ok;
	bool json = false, all = false, yes = false;
	int c, rc;

	if (!sock || !*sock)
		sock = SOCKET_DEFAULT;
	while ((c = getopt_long(argc, argv, "s:jhV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'l':
			level = optarg;
			break;
		case 'f':
			dur = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		case 'm':
			mode = optarg;
			break;
		case 'a':
			apn = optarg;
			break;
		case 'L':
			loc = optarg;
			break;
		case 'S':
			f_scope = optarg;
			break;
		case 'A':
			all = true;
			break;
		case 'Y':
			yes = true;
			break;
		case 'U':
			f_rule = optarg;
			break;
		case 'n':
		case 'R':
			if (action)
				return usage_error("%s", "--dry-run or "
						   "--release, not both");
			action = c == 'n' ? "dry-run" : "release";
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("xcrsctl %s\n", XCRS_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'xcrsctl --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("%s", "a command is required");
	cmd = argv[optind++];
	if (all || yes) {
		if (strcmp(cmd, "release") || !all || optind != argc)
			return usage_error("%s", "release --all [--yes] takes "
					   "no target (--yes goes with it)");
		return release_all(sock, yes);
	}
	if (!strcmp(cmd, "export") || !strcmp(cmd, "import")) {
		if (argc - optind > 1)
			return usage_error("%s takes one FILE at most", cmd);
		if (cmd[0] == 'e' && action)
			return usage_error("%s", "export takes no --dry-run");
		if (action && strcmp(action, "dry-run"))
			return usage_error("%s", "import takes --dry-run only");
		return cmd[0] == 'e' ?
			       decisions_export(sock, argv[optind]) :
			       decisions_import(sock, argv[optind],
						action != NULL);
	}
	/* terminals' filters are this program's: the agent sends them all */
	if (!strcmp(cmd, "terminals")) {
		f_level = level;
		level = NULL;
	} else if (f_scope || f_rule) {
		return usage_error("%s", "--scope and --rule filter terminals");
	}
	{
		/* the command line's words -> a command of the table and
		 * its arguments; the table says what each command takes */
		static const struct {
			unsigned bit;
			const char *opt;
		} opts_of[] = {
			{ CTL_A_LEVEL, "--level LEVEL" },
			{ CTL_A_FOR, "--for DURATION" },
			{ CTL_A_REASON, "--reason TEXT" },
			{ CTL_A_MODE, "--mode MODE" },
			{ CTL_A_APN, "--apn APN" },
			{ CTL_A_LOCATION, "--location LOCATION" },
		};
		struct ctl_args ca = { .level = level, .duration = dur,
				       .reason = reason, .mode = mode,
				       .apn = apn, .location = loc,
				       .action = action };
		const struct ctl_cmd_def *d;
		const char *wire = cmd;
		size_t nargs = 0;
		char err[256];
		char *line;

		if (!strcmp(cmd, "scope")) {
			if (argc - optind != 2)
				return usage_error("wrong number of arguments "
						   "for %s", cmd);
			ca.scope = argv[optind];
			if (!strcmp(argv[optind + 1], "contain"))
				wire = "scope-contain";
			else if (!strcmp(argv[optind + 1], "release"))
				wire = "scope-release";
			else
				return usage_error("scope NAME: expected "
						   "contain or release, not "
						   "\"%s\"",
						   argv[optind + 1]);
			nargs = 2;
		}
		d = ctl_cmd_find(wire);
		if (!d)
			return usage_error("unknown command \"%s\"", cmd);
		if (d->args & CTL_A_TERMINAL) {
			ca.terminal = argc > optind ? argv[optind] : NULL;
			nargs = 1;
		}
		if (argc - optind != (int)nargs)
			return usage_error("wrong number of arguments for %s",
					   cmd);
		for (size_t i = 0; i < sizeof(opts_of) / sizeof(opts_of[0]);
		     i++) {
			bool given = (opts_of[i].bit == CTL_A_LEVEL && level) ||
				     (opts_of[i].bit == CTL_A_FOR && dur) ||
				     (opts_of[i].bit == CTL_A_REASON &&
				      reason) ||
				     (opts_of[i].bit == CTL_A_MODE && mode);

			if (given && !(d->args & opts_of[i].bit))
				return usage_error("an option does not apply "
						   "to %s", cmd);
			if (!given && (d->required & opts_of[i].bit)) {
				fprintf(stderr, "xcrsctl: %s needs %s\nTry "
						"'xcrsctl --help'.\n",
					cmd, opts_of[i].opt);
				return EXIT_USAGE;
			}
		}
		if (ctl_build(wire, &ca, &line, err, sizeof(err)))
			return usage_error("%s", err);
		req = json_tokener_parse(line);
		free(line);
		if (!req)
			return usage_error("%s", "out of memory");
	}
	rc = request(sock, req, &rep);
	json_object_put(req);
	if (rc)
		return rc;
	if (f_level || f_scope || f_rule)
		filter_terminals(rep, f_level, f_scope, f_rule);
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(
				       rep, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	if (!json_object_object_get_ex(rep, "ok", &ok) ||
	    !json_object_get_boolean(ok)) {
		if (!json)
			fprintf(stderr, "xcrsctl: %s: %s\n", cmd,
				str(rep, "error"));
		json_object_put(rep);
		return EXIT_AGENT;
	}
	if (!json && json_object_object_get_ex(rep, "warning", &ok))
		fprintf(stderr, "xcrsctl: warning: %s\n",
			json_object_get_string(ok));
	if (!json) {
		if (!strcmp(cmd, "status"))
			print_status(rep);
		else if (!strcmp(cmd, "terminals"))
			print_terminals(rep);
		else if (!strcmp(cmd, "show"))
			print_show(rep);
		else if (!strcmp(cmd, "stats"))
			print_stats(rep);
		else if (!strcmp(cmd, "ms"))
			print_ms(rep);
		else if (!strcmp(cmd, "sessions"))
			print_sessions(rep);
		else if (!strcmp(cmd, "updates"))
			print_updates(rep);
		else if (!strcmp(cmd, "reload"))
			print_reload(rep);
		else if (!strcmp(cmd, "forget"))
			printf("%s offence%s forgotten\n", str(rep, "forgotten"),
			       strcmp(str(rep, "forgotten"), "1") ? "s" : "");
		else if (!strcmp(cmd, "react")) {
			json_object *t;

			if (json_object_object_get_ex(rep, "terminal", &t))
				printf("%s: %s until %s\n", str(t, "terminal"),
				       str(t, "level"), str(t, "until"));
			else if (json_object_object_get_ex(rep, "subscriber",
							   &t) && t)
				print_subscriber(t);
		} else
			printf("ok\n");
	}
	json_object_put(rep);
	return 0;
}
