// SPDX-License-Identifier: GPL-2.0-only
/*
 * The state file and the decision journal: every decision the agent holds,
 * so that a restarted agent (also after kill -9) neither forgets nor fails
 * open.
 *
 * The state file (a snapshot):
 * {"version": 1, "saved": "...", "journal": G, "reactions": [{"terminal",
 *  "rule", "level", "until_ms" (Unix ms, 0 = until released),
 *  "release_on_clean", "why"}], "scopes": [{"scope", "rule", "mode",
 *  "until_ms"}], "prefixes": [...]}
 * is written to a temporary file, fsync'd and renamed over the old one, so
 * a crash leaves the old state or the new, never half of one.
 *
 * The journal (<state_file>.journal) follows snapshot G: a first line
 * {"journal": G}, then a line for each decision as it is made, before its
 * dataplane entry is written, with what the decision left:
 *   {"terminal": "a", "reactions": [...]}     (none left: released)
 *   {"scope": "name", "contained": {...} or null}
 *   {"prefixes": [...]}
 * Each record says the whole state of its terminal, scope or the
 * prefixes, so replaying it twice changes nothing. A write(2) per decision
 * survives kill -9; fdatasync in batches (decide_flush) survives a power
 * cut up to the last batch. A journal whose G is not the state file's is
 * older than it and is not replayed; a torn last line (a crash inside a
 * write) is ignored.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abinames.h"
#include "addr.h"
#include "async.h"
#include "clock.h"
#include "decide-internal.h"
#include "log.h"

/* Records after which the journal is folded into a new state file. */
#define JOURNAL_COMPACT 10000
#define RETRY_MIN_NS (100ull * 1000000ull)
#define RETRY_MAX_NS (10ull * 1000000000ull)
#define JOURNAL_MAX (256u << 20) /* a journal larger than that is refused */

struct save_ctx {
	const struct decide *d;
	json_object *arr;
};

static json_object *reaction_json(const struct decide *d,
				  const struct corr_saved *s, bool terminal)
{
	json_object *o = json_object_new_object();
	char buf[ADDR_STRLEN];

	if (terminal) {
		addr_format(&s->terminal, buf, sizeof(buf));
		json_object_object_add(o, "terminal",
				       json_object_new_string(buf));
	}
	json_object_object_add(o, "rule", json_object_new_string(s->rule));
	json_object_object_add(
		o, "level",
		json_object_new_string(d->p->levels[s->level].name));
	json_object_object_add(
		o, "until_ms",
		json_object_new_int64(
			s->until_ns ? (int64_t)mono_to_real_ms(s->until_ns) : 0));
	json_object_object_add(o, "release_on_clean",
			       json_object_new_boolean(s->release_on_clean));
	json_object_object_add(o, "why", json_object_new_string(s->why));
	return o;
}

static void save_reaction(void *ctx, const struct corr_saved *s)
{
	struct save_ctx *sc = ctx;

	json_object_array_add(sc->arr, reaction_json(sc->d, s, true));
}

/* A contained scope as saved, or NULL when it is not contained. */
static json_object *scope_json(const struct decide *d, int i, bool name)
{
	uint64_t until;
	const char *rule;
	json_object *o;

	if (corr_scope_state(d->corr, i, &until, &rule) != 1)
		return NULL;
	o = json_object_new_object();
	if (name)
		json_object_object_add(
			o, "scope", json_object_new_string(d->p->scopes[i].name));
	json_object_object_add(o, "rule", json_object_new_string(rule));
	json_object_object_add(o, "mode",
			       json_object_new_string(abi_contain_name(
				       decide_scope_mode(d, i))));
	json_object_object_add(
		o, "until_ms",
		json_object_new_int64(until ? (int64_t)mono_to_real_ms(until) :
					      0));
	return o;
}

/* A write failed: decisions stay in force and in memory; said once per
 * streak of failures (and again when it ends, decide_flush). */
static void save_failed(struct decide *d, const char *what, int e)
{
	d->save_failures++;
	d->save_retry_ns = d->save_retry_ns ?
				   (d->save_retry_ns * 2 > RETRY_MAX_NS ?
					    RETRY_MAX_NS :
					    d->save_retry_ns * 2) :
				   RETRY_MIN_NS;
	d->retry_at = now_mono() + d->save_retry_ns;
	if (d->save_err == e)
		return;
	if (!d->save_err)
		d->save_failing_since = now_mono();
	d->save_err = e;
	log_error("%s: %s: decisions stay in force, not saved; retried "
		  "every %llu ms at first, at most every %llu s",
		  what, strerror(e),
		  (unsigned long long)(RETRY_MIN_NS / 1000000),
		  (unsigned long long)(RETRY_MAX_NS / 1000000000));
}

static void save_ok(struct decide *d)
{
	if (d->save_err)
		log_info("decisions saved again (after %llu s of failures)",
			 (unsigned long long)((now_mono() -
					       d->save_failing_since) /
					      1000000000ull));
	d->save_err = 0;
	d->save_retry_ns = 0;
}

static void journal_path(const struct decide *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s.journal", d->p->agent.state_file);
}

/* Appends rec (taken) to the journal; a record that cannot be written
 * makes a snapshot due (it holds everything). */
/* Appends line[0..n) (its '\n' included) to the journal. */
static void journal_write(struct decide *d, const char *line, size_t n)
{
	ssize_t w = write(d->jfd, line, n);

	if (w != (ssize_t)n) {
		/* a short write leaves a torn line: the next snapshot starts a
		 * new journal; until then nothing is appended after it */
		d->jbroken = d->dirty = true;
		save_failed(d, "decision journal", w < 0 ? errno : ENOSPC);
		return;
	}
	d->jrecords++;
	d->jwritten++;
	d->jsync = true;
}

static void journal_append(struct decide *d, json_object *rec)
{
	const char *s;
	size_t n;
	char *line;

	if (d->jfd < 0 || d->jbroken) {
		d->dirty = true;
		json_object_put(rec);
		return;
	}
	s = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE);
	n = strlen(s);
	line = malloc(n + 1);
	if (!line) {
		d->jbroken = d->dirty = true;
		json_object_put(rec);
		return;
	}
	memcpy(line, s, n);
	line[n] = '\n';
	journal_write(d, line, n + 1);
	free(line);
	json_object_put(rec);
}

/* ---- a terminal's record, formatted in place (it is the one written at
 * every decision: no allocation) ---- */

struct jbuf {
	char b[4096];
	size_t n;
	bool over;
};

static void jb_raw(struct jbuf *j, const char *s)
{
	size_t l = strlen(s);

	if (j->n + l >= sizeof(j->b)) {
		j->over = true;
		return;
	}
	memcpy(j->b + j->n, s, l);
	j->n += l;
}

/* s as a JSON string. */
static void jb_str(struct jbuf *j, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	jb_raw(j, "\"");
	for (; *s && !j->over; s++) {
		unsigned char c = (unsigned char)*s;
		char e[7] = { 0 };

		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
		} else if (c < 0x20) {
			memcpy(e, "\\u00", 4);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
		} else {
			e[0] = (char)c;
		}
		jb_raw(j, e);
	}
	jb_raw(j, "\"");
}

struct jterm {
	const struct decide *d;
	struct jbuf *j;
	int n;
};

static void jterm_reaction(void *ctx, const struct corr_saved *s)
{
	struct jterm *t = ctx;
	char num[32];

	jb_raw(t->j, t->n++ ? ",{\"rule\":" : "{\"rule\":");
	jb_str(t->j, s->rule);
	jb_raw(t->j, ",\"level\":");
	jb_str(t->j, t->d->p->levels[s->level].name);
	snprintf(num, sizeof(num), ",\"until_ms\":%lld",
		 s->until_ns ? (long long)mono_to_real_ms(s->until_ns) : 0LL);
	jb_raw(t->j, num);
	jb_raw(t->j, s->release_on_clean ? ",\"release_on_clean\":true" :
					   ",\"release_on_clean\":false");
	jb_raw(t->j, ",\"why\":");
	jb_str(t->j, s->why);
	jb_raw(t->j, "}");
}

void journal_terminal(struct decide *d, const struct xcrs_addr *a)
{
	static struct jbuf j;
	struct jterm t = { d, &j, 0 };
	json_object *rec;
	struct save_ctx sc;
	char buf[ADDR_STRLEN];

	if (d->jfd < 0 || d->jbroken) {
		d->dirty = true;
		return;
	}
	addr_format(a, buf, sizeof(buf));
	j.n = 0;
	j.over = false;
	jb_raw(&j, "{\"terminal\":");
	jb_str(&j, buf);
	jb_raw(&j, ",\"reactions\":[");
	corr_each_reaction_of(d->corr, a, jterm_reaction, &t);
	jb_raw(&j, "]}\n");
	if (!j.over) {
		journal_write(d, j.b, j.n);
		return;
	}
	/* a terminal with more reactions than 4 KiB: the general way */
	rec = json_object_new_object();
	sc = (struct save_ctx){ d, json_object_new_array() };
	json_object_object_add(rec, "terminal", json_object_new_string(buf));
	corr_each_reaction_of(d->corr, a, save_reaction, &sc);
	/* the terminal is in each reaction once more: drop it there */
	for (size_t i = 0; i < json_object_array_length(sc.arr); i++)
		json_object_object_del(json_object_array_get_idx(sc.arr, i),
				       "terminal");
	json_object_object_add(rec, "reactions", sc.arr);
	journal_append(d, rec);
}

void journal_scope(struct decide *d, int scope)
{
	json_object *rec;

	if (scope < 0 || (size_t)scope >= d->p->nscopes)
		return;
	rec = json_object_new_object();
	json_object_object_add(rec, "scope",
			       json_object_new_string(d->p->scopes[scope].name));
	json_object_object_add(rec, "contained", scope_json(d, scope, false));
	journal_append(d, rec);
}

void journal_prefixes(struct decide *d)
{
	json_object *rec = json_object_new_object();

	json_object_object_add(rec, "prefixes", decide_prefixes_json(d, true));
	journal_append(d, rec);
}

/* After a snapshot of generation gen: the journal starts again. */
static void journal_restart(struct decide *d, uint64_t gen)
{
	char h[64];
	int n = snprintf(h, sizeof(h), "{\"journal\":%llu}\n",
			 (unsigned long long)gen);

	d->jgen = gen;
	d->jrecords = 0;
	d->jbroken = false;
	if (d->jfd < 0)
		return;
	errno = 0;
	if (ftruncate(d->jfd, 0) || write(d->jfd, h, (size_t)n) != n ||
	    fdatasync(d->jfd)) {
		d->jbroken = true;
		save_failed(d, "decision journal", errno ? errno : ENOSPC);
		return;
	}
	d->jsync = false;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int decide_save(struct decide *d)
{
	const char *path = d->p->agent.state_file;
	json_object *root = json_object_new_object(), *scopes;
	struct save_ctx sc = {d, json_object_new_array()};
	char tmp[300], ts[40], *dir, dbuf[256];
	const char *text;
	int fd, r = 0;

	fmt_time_ms(now_real_ms(), ts, sizeof(ts));
	json_object_object_add(root, "version",
			       json_object_new_int(STATE_VERSION));
	json_object_object_add(root, "saved", json_object_new_string(ts));
	json_object_object_add(root, "journal",
			       json_object_new_int64((int64_t)(d->jgen + 1)));
	corr_each_reaction(d->corr, save_reaction, &sc);
	json_object_object_add(root, "reactions", sc.arr);
	scopes = json_object_new_array();
	for (size_t i = 0; i < d->p->nscopes; i++) {
		json_object *o = scope_json(d, (int)i, true);

		if (o)
			json_object_array_add(scopes, o);
	}
	json_object_object_add(root, "scopes", scopes);
	json_object_object_add(root, "prefixes", decide_prefixes_json(d, true));
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
	} else {
		r = write_all(fd, text, strlen(text));
		if (!r)
			r = write_all(fd, "\n", 1);
		if (!r && fsync(fd))
			r = -errno;
		close(fd);
		if (!r && rename(tmp, path))
			r = -errno;
	}
	json_object_put(root);
	if (r) {
		char what[300];

		snprintf(what, sizeof(what), "state file %s", path);
		save_failed(d, what, -r);
		unlink(tmp);
		return r;
	}
	snprintf(dbuf, sizeof(dbuf), "%s", path);
	dir = dirname(dbuf);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	d->dirty = false;
	journal_restart(d, d->jgen + 1);
	if (!d->jbroken)
		save_ok(d);
	return d->jbroken ? -EIO : 0;
}

/* The journal's fdatasync, on the worker (a disk that takes milliseconds
 * to sync must not hold the loop: an alert waits for nothing but its
 * decision). */
struct sync_job {
	struct async_job aj;
	int fd;
	uint64_t upto; /* records written when it was asked for */
	int err;
};

static void sync_work(struct async_job *aj)
{
	struct sync_job *j = (struct sync_job *)aj;

	j->err = fdatasync(j->fd) ? errno : 0;
}

static void sync_done(struct async_job *aj, void *ctx, bool ran)
{
	struct sync_job *j = (struct sync_job *)aj;
	struct decide *d = ctx;

	if (d) {
		d->syncing = false;
		if (!ran) {
			/* closed first: nothing to say */
		} else if (j->err) {
			save_failed(d, "decision journal", j->err);
		} else {
			if (d->jwritten == j->upto)
				d->jsync = false;
			save_ok(d);
		}
	}
	free(j);
}

int decide_sync_fd(const struct decide *d)
{
	return d->syncer ? async_fd(d->syncer) : -1;
}

void decide_sync_done(struct decide *d)
{
	if (d->syncer)
		async_process(d->syncer, d);
}

int decide_flush(struct decide *d)
{
	struct sync_job *j;

	/* failing: not before the backoff says */
	if (d->save_err && now_mono() < d->retry_at)
		return -d->save_err;
	if (d->dirty || d->jbroken || d->jrecords >= JOURNAL_COMPACT)
		return decide_save(d);
	if (!d->jsync || d->jfd < 0) {
		save_ok(d);
		return 0;
	}
	if (d->syncing)
		return 0; /* the job out covers what it can; asked again after */
	j = d->syncer ? calloc(1, sizeof(*j)) : NULL;
	if (j) {
		j->aj.work = sync_work;
		j->aj.done = sync_done;
		j->fd = d->jfd;
		j->upto = d->jwritten;
		if (!async_submit(d->syncer, &j->aj)) {
			d->syncing = true;
			return 0;
		}
		free(j);
	}
	/* no worker: here */
	if (fdatasync(d->jfd)) {
		int e = errno;

		save_failed(d, "decision journal", e);
		return -e;
	}
	d->jsync = false;
	save_ok(d);
	return 0;
}

uint64_t decide_retry_ns(const struct decide *d)
{
	return d->save_retry_ns ? d->save_retry_ns : RETRY_MIN_NS;
}

int decide_save_error(const struct decide *d)
{
	return d->save_err;
}

uint64_t decide_save_failures(const struct decide *d)
{
	return d->save_failures;
}

static int jget(json_object *o, const char *k, enum json_type t,
		json_object **v)
{
	return json_object_object_get_ex(o, k, v) && json_object_is_type(*v, t) ?
		       0 :
		       -1;
}

/* What the state file and the journal say, by key, before it is restored:
 * terminal -> its reactions, scope -> its containment (NULL: none), the
 * prefix decisions. */
struct staged {
	json_object *terms, *scopes, *prefixes;
};

static void stage_terminal(struct staged *st, const char *t, json_object *arr)
{
	json_object_object_add(st->terms, t, json_object_get(arr));
}

/* Replays one journal line into st. 0, or -1 if it is not a record. */
static int stage_record(struct staged *st, json_object *rec)
{
	json_object *k, *v;

	if (!json_object_is_type(rec, json_type_object))
		return -1;
	if (!jget(rec, "terminal", json_type_string, &k) &&
	    !jget(rec, "reactions", json_type_array, &v)) {
		stage_terminal(st, json_object_get_string(k), v);
		return 0;
	}
	if (!jget(rec, "scope", json_type_string, &k) &&
	    json_object_object_get_ex(rec, "contained", &v) &&
	    (!v || json_object_is_type(v, json_type_object))) {
		json_object_object_add(st->scopes, json_object_get_string(k),
				       json_object_get(v));
		return 0;
	}
	if (!jget(rec, "prefixes", json_type_array, &v)) {
		json_object_put(st->prefixes);
		st->prefixes = json_object_get(v);
		return 0;
	}
	return -1;
}

/* The journal after snapshot gen, into st: how many records, or -errno
 * with err (a broken line before the last one: the journal is damaged). */
static int replay_journal(struct decide *d, uint64_t gen, struct staged *st,
			  char *err, size_t errlen)
{
	char path[300];
	struct stat sb;
	char *buf, *line, *nl;
	int fd, n = 0;
	ssize_t got;
	size_t len;

	journal_path(d, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &sb) || sb.st_size > JOURNAL_MAX) {
		snprintf(err, errlen, "decision journal %s: larger than %u "
			 "bytes; move it away to start without it",
			 path, JOURNAL_MAX);
		close(fd);
		return -EFBIG;
	}
	len = (size_t)sb.st_size;
	buf = malloc(len + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	got = read(fd, buf, len);
	close(fd);
	if (got < 0 || (size_t)got != len) {
		free(buf);
		snprintf(err, errlen, "decision journal %s: cannot be read",
			 path);
		return -EIO;
	}
	buf[len] = '\0';
	for (line = buf; line < buf + len; line = nl + 1) {
		json_object *rec, *g;

		nl = strchr(line, '\n');
		if (!nl) {
			/* the last write did not end: a crash inside it */
			log_warn("decision journal %s: a torn last record "
				 "ignored", path);
			break;
		}
		*nl = '\0';
		rec = json_tokener_parse(line);
		if (line == buf) {
			if (!rec || jget(rec, "journal", json_type_int, &g) ||
			    (uint64_t)json_object_get_int64(g) != gen) {
				/* older than the state file: it is in it */
				json_object_put(rec);
				break;
			}
		} else if (stage_record(st, rec)) {
			json_object_put(rec);
			free(buf);
			snprintf(err, errlen, "decision journal %s: record %d "
				 "is damaged; move the file away to start "
				 "with the state file alone", path, n + 1);
			return -EINVAL;
		} else {
			n++;
		}
		json_object_put(rec);
	}
	free(buf);
	return n;
}

/* Restores what the state file and the journal hold. A file that cannot
 * be read or understood stops the start: starting without it would fail
 * open. */
int decide_load(struct decide *d, char *err, size_t errlen)
{
	const char *path = d->p->agent.state_file;
	struct staged st = { json_object_new_object(),
			     json_object_new_object(), NULL };
	json_object *root = NULL, *arr, *v;
	int ver, restored = 0, dropped = 0, replayed, r = 0;
	uint64_t gen = 0;
	char jpath[300];

	if (access(path, F_OK) == 0 || errno != ENOENT) {
		root = json_object_from_file(path);
		if (!root || !json_object_is_type(root, json_type_object) ||
		    jget(root, "version", json_type_int, &v) ||
		    (ver = json_object_get_int(v)) != STATE_VERSION ||
		    jget(root, "reactions", json_type_array, &arr)) {
			snprintf(err, errlen,
				 "state file %s: unreadable or not an xcrs "
				 "state file (version %d); move it away to "
				 "start without the saved decisions",
				 path, STATE_VERSION);
			r = -EINVAL;
			goto out;
		}
		if (!jget(root, "journal", json_type_int, &v))
			gen = (uint64_t)json_object_get_int64(v);
		/* reactions by terminal */
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *o = json_object_array_get_idx(arr, i), *t,
				    *list;
			const char *ts;

			if (jget(o, "terminal", json_type_string, &t)) {
				snprintf(err, errlen, "state file %s: "
					 "reaction %zu is malformed", path, i);
				r = -EINVAL;
				goto out;
			}
			ts = json_object_get_string(t);
			if (!json_object_object_get_ex(st.terms, ts, &list)) {
				list = json_object_new_array();
				json_object_object_add(st.terms, ts, list);
			}
			json_object_array_add(list, json_object_get(o));
		}
		if (!jget(root, "scopes", json_type_array, &arr))
			for (size_t i = 0; i < json_object_array_length(arr);
			     i++) {
				json_object *o = json_object_array_get_idx(arr,
									   i),
					    *sn;

				if (jget(o, "scope", json_type_string, &sn)) {
					snprintf(err, errlen, "state file %s: "
						 "scope %zu is malformed",
						 path, i);
					r = -EINVAL;
					goto out;
				}
				json_object_object_add(
					st.scopes, json_object_get_string(sn),
					json_object_get(o));
			}
		if (!jget(root, "prefixes", json_type_array, &arr))
			st.prefixes = json_object_get(arr);
	}
	replayed = replay_journal(d, gen, &st, err, errlen);
	if (replayed < 0) {
		r = replayed;
		if (!err[0])
			snprintf(err, errlen, "decision journal of %s: %s",
				 path, strerror(-r));
		goto out;
	}
	json_object_object_foreach(st.terms, tkey, list) {
		struct xcrs_addr a;

		if (addr_parse(tkey, &a) ||
		    !json_object_is_type(list, json_type_array)) {
			snprintf(err, errlen, "state of %s: not an address",
				 tkey);
			r = -EINVAL;
			goto out;
		}
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			json_object *o = json_object_array_get_idx(list, i),
				    *ru, *lv, *un, *roc, *why;
			int level;
			int64_t until;

			if (jget(o, "rule", json_type_string, &ru) ||
			    jget(o, "level", json_type_string, &lv) ||
			    jget(o, "until_ms", json_type_int, &un) ||
			    jget(o, "release_on_clean", json_type_boolean,
				 &roc) ||
			    jget(o, "why", json_type_string, &why)) {
				snprintf(err, errlen, "state of %s: reaction "
					 "%zu is malformed", tkey, i);
				r = -EINVAL;
				goto out;
			}
			level = policy_level_carry(d->p,
						   json_object_get_string(lv));
			if (level < 0) {
				log_warn("state file: level \"%s\" of %s is "
					 "not in the policy any more: "
					 "reaction dropped",
					 json_object_get_string(lv), tkey);
				dropped++;
				continue;
			}
			until = json_object_get_int64(un);
			if (corr_restore(d->corr, &a,
					 json_object_get_string(ru),
					 (unsigned)level,
					 until > 0 ? real_ms_to_mono(
							     (uint64_t)until) :
						     0,
					 json_object_get_boolean(roc),
					 json_object_get_string(why))) {
				snprintf(err, errlen, "state: out of memory");
				r = -ENOMEM;
				goto out;
			}
			restored++;
		}
	}
	json_object_object_foreach(st.scopes, skey, o) {
		json_object *ru, *un, *md;
		int sc;
		int64_t until;

		if (!o)
			continue; /* released after the snapshot */
		if (jget(o, "rule", json_type_string, &ru) ||
		    jget(o, "until_ms", json_type_int, &un)) {
			snprintf(err, errlen, "state of scope %s: malformed",
				 skey);
			r = -EINVAL;
			goto out;
		}
		sc = policy_scope_index(d->p, skey);
		if (sc < 0) {
			log_warn("state file: scope \"%s\" is not in the "
				 "policy any more", skey);
			continue;
		}
		if (!jget(o, "mode", json_type_string, &md)) {
			const char *m = json_object_get_string(md);

			d->scope_mode[sc] = !strcmp(m, "isolate") ?
						    XCRS_CONTAIN_ISOLATE :
					    !strcmp(m, "no-lateral") ?
						    XCRS_CONTAIN_NO_LATERAL :
						    XCRS_CONTAIN_NONE;
		}
		until = json_object_get_int64(un);
		corr_restore_scope(d->corr, sc, json_object_get_string(ru),
				   until > 0 ? real_ms_to_mono((uint64_t)until) :
					       0);
		restored++;
	}
	if (st.prefixes) {
		r = pdec_restore(d, st.prefixes, err, errlen);
		if (r) {
			char e2[300];

			snprintf(e2, sizeof(e2), "%s", err);
			snprintf(err, errlen, "state file %s: %s", path, e2);
			goto out;
		}
		restored += (int)d->npdecs;
	}
	d->jgen = gen;
	/* the journal goes on after what it held; the start's snapshot
	 * (decide_mark_dirty) begins a new one */
	journal_path(d, jpath, sizeof(jpath));
	d->jfd = open(jpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (d->jfd >= 0 && !d->syncer && async_open(1, &d->syncer))
		d->syncer = NULL; /* then decide_flush syncs on the loop */
	if (d->jfd < 0)
		log_warn("decision journal %s: %s: every decision waits for "
			 "the next state file instead", jpath, strerror(errno));
	else if (!replayed)
		journal_restart(d, gen);
	if (root || replayed)
		log_info("state file %s: %d decisions restored (%d records of "
			 "its journal replayed)%s", path, restored, replayed,
			 dropped ? " (some dropped, see above)" : "");
out:
	json_object_put(root);
	json_object_put(st.terms);
	json_object_put(st.scopes);
	json_object_put(st.prefixes);
	return r;
}
