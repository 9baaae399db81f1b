#include "cli/cli.h"
#include "base/money.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "catalog/billing.h"
#include "contract/key.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("frugal: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_error_e(const struct error *err)
{
	cli_error("%s", error_msg(err));
}

int cli_open(struct cli *c)
{
	struct error err = ERROR_INIT;
	struct diag_list diags = DIAG_LIST_INIT;

	memset(c, 0, sizeof(*c));
	config_init(&c->cfg);
	if (home_open(&c->home, &err) < 0) {
		cli_error_e(&err);
		return -1;
	}
	if (config_load(c->home.config, &c->cfg, &diags) < 0) {
		struct strbuf sb = STRBUF_INIT;
		diag_list_format(&diags, &sb);
		fputs(sb.buf, stderr);
		strbuf_release(&sb);
		diag_list_release(&diags);
		return -1;
	}
	diag_list_release(&diags);
	return 0;
}

struct store *cli_store(struct cli *c)
{
	struct error err = ERROR_INIT;

	if (!c->st && store_open(c->home.db, &c->st, &err) < 0) {
		cli_error_e(&err);
		return NULL;
	}
	return c->st;
}

void cli_close(struct cli *c)
{
	store_free(c->st);
	free(c->mounts_note);
	config_release(&c->cfg);
	home_release(&c->home);
}

const char *cli_storage_url(const struct cli *c)
{
	return c->cfg.storage_url ? c->cfg.storage_url : c->home.storage_url;
}

const char *cli_job_storage_url(const struct cli *c, const struct job *j)
{
	return j->storage_url ? j->storage_url : cli_storage_url(c);
}

char *cli_outputs_url(const struct cli *c, const struct job *j)
{
	if (j->outputs_url)
		return xstrdup(j->outputs_url);
	char *prefix = key_job_prefix(j->id), *url = key_outputs_url(cli_job_storage_url(c, j), prefix);

	free(prefix);
	return url;
}

/* ---- tables ---- */

struct table {
	int ncols;
	char **cells;	/* rows * ncols, row 0 is the header */
	size_t rows, alloc;
	int status_col;	/* column of job states to colour; -1: none */
};

int cli_color(FILE *out)
{
	const char *term = getenv("TERM");

	return isatty(fileno(out)) && !getenv("NO_COLOR") && !(term && !strcmp(term, "dumb"));
}

void table_color_status(struct table *t, int col)
{
	t->status_col = col;
}

/* The SGR colour of a job state or attempt outcome, or NULL. */
static const char *status_color(const char *s)
{
	if (!strcmp(s, "SUCCEEDED") || !strcmp(s, "succeeded"))
		return "32";	/* green */
	if (!strcmp(s, "FAILED") || !strcmp(s, "failed") || !strcmp(s, "launch_failed"))
		return "31";	/* red */
	if (!strcmp(s, "RUNNING"))
		return "36";	/* cyan */
	if (!strcmp(s, "RECOVERING") || !strcmp(s, "preempted") || !strcmp(s, "CANCELLED"))
		return "33";	/* yellow */
	return NULL;
}

struct table *table_new(int ncols, ...)
{
	struct table *t = xcalloc(1, sizeof(*t));

	t->status_col = -1;
	va_list ap;
	int i;

	t->ncols = ncols;
	XGROW(t->cells, (size_t)ncols, t->alloc);
	va_start(ap, ncols);
	for (i = 0; i < ncols; i++)
		t->cells[i] = xstrdup(va_arg(ap, const char *));
	va_end(ap);
	t->rows = 1;
	return t;
}

struct table *table_newv(int ncols, const char **names)
{
	struct table *t = xcalloc(1, sizeof(*t));

	t->status_col = -1;
	int i;

	t->ncols = ncols;
	XGROW(t->cells, (size_t)ncols, t->alloc);
	for (i = 0; i < ncols; i++)
		t->cells[i] = xstrdup(names[i]);
	t->rows = 1;
	return t;
}

void table_addv(struct table *t, const char **cells)
{
	int i;

	XGROW(t->cells, (t->rows + 1) * (size_t)t->ncols, t->alloc);
	for (i = 0; i < t->ncols; i++)
		t->cells[t->rows * (size_t)t->ncols + (size_t)i] = xstrdup(cells[i] ? cells[i] : "-");
	t->rows++;
}

void table_add(struct table *t, ...)
{
	va_list ap;
	int i;

	XGROW(t->cells, (t->rows + 1) * (size_t)t->ncols, t->alloc);
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);
		t->cells[t->rows * (size_t)t->ncols + (size_t)i] = xstrdup(s ? s : "-");
	}
	va_end(ap);
	t->rows++;
}

void table_print(struct table *t, FILE *out)
{
	size_t *w = xcalloc((size_t)t->ncols, sizeof(size_t));
	struct strbuf line = STRBUF_INIT;
	int color = t->status_col >= 0 && cli_color(out);
	size_t r;
	int i;

	for (r = 0; r < t->rows; r++)
		for (i = 0; i < t->ncols; i++) {
			size_t len = strlen(t->cells[r * (size_t)t->ncols + (size_t)i]);
			if (len > w[i])
				w[i] = len;
		}
	for (r = 0; r < t->rows; r++) {
		strbuf_reset(&line);
		for (i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * (size_t)t->ncols + (size_t)i];
			const char *sgr = color && r && i == t->status_col ? status_color(s) : NULL;
			if (sgr)	/* the padding stays outside the colour */
				strbuf_addf(&line, "\033[%sm%s\033[0m%*s", sgr, s,
					    i == t->ncols - 1 ? 0 : (int)(w[i] - strlen(s) + 2), "");
			else if (i == t->ncols - 1)
				strbuf_adds(&line, s);
			else
				strbuf_addf(&line, "%-*s  ", (int)w[i], s);
		}
		strbuf_rtrim(&line);
		strbuf_addch(&line, '\n');
		fwrite(line.buf, 1, line.len, out);
	}
	strbuf_release(&line);
	free(w);
}

void table_free(struct table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->rows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void fmt_usd(double usd, char *buf, size_t len)
{
	money_format(money_from_usd(usd), buf, len);
}

void cli_job_spend(const struct job *j, const struct attempt_list *live, int64_t now_ms,
		   struct job_spend *ret)
{
	int64_t run_ms = j->ran_ms, life_ms;
	size_t i;

	memset(ret, 0, sizeof(*ret));
	ret->micro = j->cost_micro;
	for (i = 0; live && i < live->n; i++) {
		const struct attempt *a = &live->items[i];
		struct attempt_cost c;

		if (strcmp(a->job_id, j->id) || a->ended_at)
			continue;
		attempt_cost(a, now_ms, &c);
		ret->micro += c.micro;
		ret->running = 1;
		if (now_ms > a->started_at)
			run_ms += now_ms - a->started_at;
	}
	life_ms = (j->ended_at ? j->ended_at : now_ms) - j->submitted_at;
	ret->run_s = (run_ms + 500) / 1000;
	ret->queued_s = life_ms > run_ms ? (life_ms - run_ms + 500) / 1000 : 0;
}

void fmt_age(int64_t then_ms, char *buf, size_t len)
{
	char d[32];
	int64_t s = (time_now_ms() - then_ms) / 1000;

	duration_format(s, d, sizeof(d));
	snprintf(buf, len, "%s ago", d);
}

void fmt_size(int64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, len, "%lld B", (long long)bytes);
		return;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, v < 10 ? "%.1f %s" : "%.0f %s", v, unit[u]);
}
