/*
 * logs: print or follow a job's logs from storage; follow_job is also how
 * launch shows a job until it ends.
 */
#include "cli/cli.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "contract/key.h"
#include "storage/storage.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	interrupted = 1;
}

/* Write the complete records of buf (keeping a partial last one in it):
 * lines end at '\n', progress records at '\r' (logship.h), each written
 * with its own end so a progress bar redraws in place. */
static void emit_lines(struct strbuf *buf, int timestamps, int final)
{
	size_t start = 0, i;

	for (i = 0; i < buf->len; i++) {
		if (buf->buf[i] != '\n' && buf->buf[i] != '\r')
			continue;
		{
			const char *line = buf->buf + start;
			size_t len = i - start + 1;
			/* Lines are "2026-11-22T08:15:03.123Z TEXT". */
			if (!timestamps && len > 25 && line[4] == '-' && line[10] == 'T' &&
			    line[24] == ' ') {
				line += 25;
				len -= 25;
			}
			fwrite(line, 1, len, stdout);
		}
		start = i + 1;
	}
	if (final && start < buf->len) {
		fwrite(buf->buf + start, 1, buf->len - start, stdout);
		fputc('\n', stdout);
		start = buf->len;
	}
	if (start) {
		memmove(buf->buf, buf->buf + start, buf->len - start);
		buf->len -= start;
		buf->buf[buf->len] = '\0';
	}
	fflush(stdout);
}

/* "=== attempt N: BACKEND INSTANCE, OUTCOME ===" before each attempt's log. */
static void print_attempt_header(const struct attempt_list *al, int n)
{
	const struct attempt *a = n >= 1 && (size_t)n <= al->n ? &al->items[n - 1] : NULL;

	if (!a) {
		printf("=== attempt %d ===\n", n);
		return;
	}
	printf("=== attempt %d: %s%s%s%s, %s ===\n", n, a->backend ? a->backend : "-",
	       a->instance_type ? " " : "", a->instance_type ? a->instance_type : "",
	       a->spot ? " (spot)" : "", a->outcome ? a->outcome : "running");
}

/* Show where the outputs went and what is there. */
static void print_outputs(const char *url)
{
	struct storage *s = NULL;
	struct storage_list l = STORAGE_LIST_INIT;
	size_t i;

	if (storage_open(url, &s, NULL) < 0)
		return;
	if (storage_list(s, "", &l, NULL) == 0 && l.n) {
		fprintf(stderr, "Outputs in %s:\n", url);
		for (i = 0; i < l.n && i < 20; i++) {
			char size[32];
			fmt_size(l.items[i].size, size, sizeof(size));
			fprintf(stderr, "  %-40s %10s\n", l.items[i].key, size);
		}
		if (l.n > 20)
			fprintf(stderr, "  ... and %zu more\n", l.n - 20);
	}
	storage_list_release(&l);
	storage_free(s);
}

static void print_summary(struct cli *c, const struct job *j)
{
	char cost[32], dur[32];
	char *out = cli_outputs_url(c, j);

	fmt_usd(j->cost_usd, cost, sizeof(cost));
	duration_format((j->ended_at - j->submitted_at) / 1000, dur, sizeof(dur));
	fprintf(stderr, "Job %s %s after %s (%d attempt%s), cost %s%s%s\n", j->id,
		job_status_name(j->status), dur, j->n_attempts, j->n_attempts == 1 ? "" : "s",
		cost, j->reason && *j->reason ? ": " : "", j->reason ? j->reason : "");
	print_outputs(out);
	free(out);
}

int follow_job(struct cli *c, const char *job_id, int from_attempt, int timestamps,
	       int follow)
{
	return follow_job_at(c, job_id, from_attempt, 0, timestamps, follow);
}

/*
 * While following: one line on stderr each time the job's state or its
 * reason changes, so a job that waits says why ("PENDING: waiting for 1
 * GPU (0 of 1 free)") and a launch says where it goes.
 */
struct progress {
	int status;		/* -1: nothing said yet */
	char *reason;
	int attempt;
};

static void progress_note(struct cli *c, struct progress *p, const struct job *j)
{
	const char *reason = j->reason ? j->reason : "";
	struct attempt_list al = { 0 };
	const struct attempt *a;

	if (p->status == (int)j->status && p->reason && !strcmp(p->reason, reason) &&
	    p->attempt == j->n_attempts)
		return;
	p->status = (int)j->status;
	free(p->reason);
	p->reason = xstrdup(reason);
	p->attempt = j->n_attempts;
	if (job_status_is_terminal(j->status))
		return;	/* the summary says it */
	store_attempt_list(c->st, j->id, &al, NULL);
	a = al.n ? &al.items[al.n - 1] : NULL;
	if ((j->status == JOB_PROVISIONING || j->status == JOB_STARTING) && a) {
		struct strbuf sb = STRBUF_INIT;
		char price[32];

		fmt_usd(a->price_per_hour, price, sizeof(price));
		strbuf_addf(&sb, "frugal: %s attempt %d on %s", job_status_name(j->status), a->n,
			    a->backend ? a->backend : "-");
		if (a->instance_type && *a->instance_type)
			strbuf_addf(&sb, " %s", a->instance_type);
		if (a->spot)
			strbuf_adds(&sb, " spot");
		if (a->zone && *a->zone && strcmp(a->zone, "-"))
			strbuf_addf(&sb, " in %s", a->zone);
		else if (a->region && *a->region && strcmp(a->region, "-"))
			strbuf_addf(&sb, " in %s", a->region);
		if (a->gpus && *a->gpus)
			strbuf_addf(&sb, " (GPUs %s)", a->gpus);
		strbuf_addf(&sb, " at %s/h%s%s", price, *reason ? ": " : "", reason);
		fprintf(stderr, "%s\n", sb.buf);
		strbuf_release(&sb);
	} else {
		fprintf(stderr, "frugal: %s%s%s\n", job_status_name(j->status), *reason ? ": " : "",
			reason);
	}
	attempt_list_release(&al);
}

int follow_job_at(struct cli *c, const char *job_id, int from_attempt, int64_t from_offset,
		  int timestamps, int follow)
{
	struct progress prog = { -1, NULL, 0 };
	struct error err = ERROR_INIT;
	struct storage *s = NULL;
	struct strbuf buf = STRBUF_INIT;
	struct sigaction sa, old;
	int64_t offset = from_offset;
	int cur = from_attempt, r = 1;

	if (!cli_store(c))
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	if (follow)
		sigaction(SIGINT, &sa, &old);
	for (;;) {
		struct job j;
		char *key, *prefix;
		int terminal, got;

		if (store_job_get(c->st, job_id, &j, &err) < 0) {
			cli_error_e(&err);
			break;
		}
		/* The job's own storage, whatever config.yaml says now. */
		if (!s && storage_open(cli_job_storage_url(c, &j), &s, &err) < 0) {
			cli_error_e(&err);
			job_release(&j);
			break;
		}
		terminal = job_status_is_terminal(j.status);
		if (follow)
			progress_note(c, &prog, &j);
		if (cur == 0)
			cur = j.n_attempts ? j.n_attempts : 1;
		prefix = key_job_prefix(j.id);
		key = key_log(prefix, cur);
		free(prefix);
		strbuf_reset(&buf);
		got = 0;
		for (;;) {
			size_t before = buf.len;
			if (storage_read_at(s, key, offset, 1 << 20, &buf, NULL) < 0)
				break;
			offset += (int64_t)(buf.len - before);
			if (buf.len == before)
				break;
			got = 1;
			emit_lines(&buf, timestamps, 0);
		}
		emit_lines(&buf, timestamps, !follow || (terminal && !got));
		free(key);
		if (!follow) {
			r = 0;
			job_release(&j);
			break;
		}
		if (!got && cur < j.n_attempts) {
			struct attempt_list al = { 0 };

			cur++;
			offset = 0;
			store_attempt_list(c->st, j.id, &al, NULL);
			print_attempt_header(&al, cur);
			attempt_list_release(&al);
			job_release(&j);
			continue;
		}
		if (!got && terminal) {
			print_summary(c, &j);
			r = j.status == JOB_SUCCEEDED ? 0 : 1;
			job_release(&j);
			break;
		}
		job_release(&j);
		if (interrupted) {
			fprintf(stderr, "\nStopped following. Job %s keeps running:"
				" 'frugal logs -f %s' to follow again, 'frugal cancel %s' to stop it.\n",
				job_id, job_id, job_id);
			r = 130;
			break;
		}
		if (!got)
			time_sleep_ms(100);
	}
	if (follow)
		sigaction(SIGINT, &old, NULL);
	free(prog.reason);
	strbuf_release(&buf);
	storage_free(s);
	return r;
}

/* The whole log of attempt n of job into buf (empty when there is none). */
static void read_log(struct storage *s, const char *job_id, int n, struct strbuf *buf)
{
	char *prefix = key_job_prefix(job_id), *key = key_log(prefix, n);
	int64_t offset = 0;

	strbuf_reset(buf);
	for (;;) {
		size_t before = buf->len;
		if (storage_read_at(s, key, offset, 1 << 20, buf, NULL) < 0 || buf->len == before)
			break;
		offset += (int64_t)(buf->len - before);
	}
	free(key);
	free(prefix);
}

/* Offset in buf where its last n records (lines or progress records)
 * start. */
static size_t tail_offset(const struct strbuf *buf, long n)
{
	size_t i = buf->len;

	if (n <= 0)
		return buf->len;
	if (i && (buf->buf[i - 1] == '\n' || buf->buf[i - 1] == '\r'))
		i--;
	while (i > 0) {
		if (buf->buf[i - 1] == '\n' || buf->buf[i - 1] == '\r') {
			if (--n == 0)
				return i;
		}
		i--;
	}
	return 0;
}

/* The job logs and -f use when none is named: the newest submitted. */
static int latest_job(struct cli *c, char *id, size_t size)
{
	struct job_list l = { 0 };
	const struct job *best = NULL;
	size_t i;

	if (store_job_list(c->st, 1, 1, &l, NULL) < 0)
		return -1;
	for (i = 0; i < l.n; i++)
		if (!best || l.items[i].submitted_at >= best->submitted_at)
			best = &l.items[i];
	if (best)
		snprintf(id, size, "%s", best->id);
	job_list_release(&l);
	return best ? 0 : -1;
}

int cmd_logs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "attempt", required_argument, NULL, 'a' },
		{ "tail", required_argument, NULL, 'n' },
		{ "timestamps", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct error err = ERROR_INIT;
	struct attempt_list al = { 0 };
	struct strbuf buf = STRBUF_INIT;
	struct storage *s = NULL;
	int follow = 0, attempt = 0, ts = 0, opt, r = 1, first, last, n;
	long tail = -1;
	char latest[JOB_ID_MAX], *end;
	const char *want;
	struct cli c;
	struct job j;

	while ((opt = getopt_long(argc, argv, "fthn:", opts, NULL)) != -1) {
		switch (opt) {
		case 'f': follow = 1; break;
		case 't': ts = 1; break;
		case 'a':
			attempt = atoi(optarg);
			if (attempt < 1) {
				cli_error("--attempt wants a number from 1, got '%s'", optarg);
				return 2;
			}
			break;
		case 'n':
			tail = strtol(optarg, &end, 10);
			if (*end || end == optarg || tail < 0) {
				cli_error("--tail wants a number of lines, got '%s'", optarg);
				return 2;
			}
			break;
		case 'h':
			printf("usage: frugal logs [JOB] [-f|--follow] [--attempt N] [--tail N]"
			       " [--timestamps]\n");
			return 0;
		default: return 2;
		}
	}
	if (optind < argc - 1) {
		cli_error("logs takes one job: frugal logs [JOB] [-f]");
		return 2;
	}
	if (cli_open(&c) < 0 || !cli_store(&c))
		goto out;
	want = optind == argc - 1 ? argv[optind] : NULL;
	if (!want) {
		if (latest_job(&c, latest, sizeof(latest)) < 0) {
			cli_error("no jobs yet: start one with 'frugal launch TASK.yaml'");
			goto out;
		}
		want = latest;
	}
	if (store_job_get(c.st, want, &j, &err) < 0) {
		cli_error_e(&err);
		goto out;
	}
	if (attempt > j.n_attempts && attempt > 1) {
		cli_error("job %s has %d attempt%s, not %d", j.id, j.n_attempts,
			  j.n_attempts == 1 ? "" : "s", attempt);
		job_release(&j);
		goto out;
	}
	if (storage_open(cli_job_storage_url(&c, &j), &s, &err) < 0) {
		cli_error_e(&err);
		job_release(&j);
		goto out;
	}
	/* What is there now: every attempt with a header (one named with
	 * --attempt alone), the last N records of the last one with --tail. */
	store_attempt_list(c.st, j.id, &al, NULL);
	first = attempt ? attempt : 1;
	last = attempt ? attempt : (j.n_attempts ? j.n_attempts : 1);
	if (tail >= 0 && !attempt)
		first = last;
	for (n = first; n <= last; n++) {
		size_t from = 0, total;

		read_log(s, j.id, n, &buf);
		total = buf.len;
		if (!attempt && j.n_attempts > 1)
			print_attempt_header(&al, n);
		if (n == last && tail >= 0) {
			from = tail_offset(&buf, tail);
			memmove(buf.buf, buf.buf + from, buf.len - from);
			buf.len -= from;
			buf.buf[buf.len] = '\0';
		}
		emit_lines(&buf, ts, !follow || n < last);
		if (n == last && follow) {
			/* Go on from the end of what was printed (a partial
			 * record left in buf is read again). */
			fflush(stdout);
			r = follow_job_at(&c, j.id, last, (int64_t)(total - buf.len), ts, 1);
			goto done;
		}
	}
	r = 0;
done:
	job_release(&j);
out:
	attempt_list_release(&al);
	strbuf_release(&buf);
	storage_free(s);
	cli_close(&c);
	return r;
}
