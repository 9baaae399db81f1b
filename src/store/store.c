#include "store/store.h"
#include "base/money.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

struct store {
	sqlite3 *db;
	char *path;
};

/*
 * Schema migrations: entry i takes the database from version i to i + 1.
 * Never edit a shipped entry; append a new one.
 */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE jobs ("
	"  id TEXT PRIMARY KEY,"
	"  seq INTEGER NOT NULL UNIQUE,"
	"  name TEXT,"
	"  status TEXT NOT NULL,"
	"  task_json TEXT NOT NULL,"
	"  backend TEXT NOT NULL,"
	"  accelerators TEXT NOT NULL DEFAULT '-',"
	"  gpus INTEGER NOT NULL DEFAULT 0,"
	"  submitted_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  ended_at INTEGER NOT NULL DEFAULT 0,"
	"  restarts INTEGER NOT NULL DEFAULT 0,"
	"  error_restarts INTEGER NOT NULL DEFAULT 0,"
	"  cost_usd REAL NOT NULL DEFAULT 0,"
	"  outputs_url TEXT,"
	"  reason TEXT,"
	"  cancel_requested INTEGER NOT NULL DEFAULT 0,"
	"  sweep_id TEXT,"
	"  secrets_box BLOB);"
	"CREATE INDEX jobs_live ON jobs(ended_at, seq);"
	"CREATE INDEX jobs_name ON jobs(name, seq);"
	"CREATE TABLE attempts ("
	"  job_id TEXT NOT NULL REFERENCES jobs(id),"
	"  n INTEGER NOT NULL,"
	"  backend TEXT NOT NULL,"
	"  region TEXT, zone TEXT, instance_type TEXT,"
	"  spot INTEGER NOT NULL DEFAULT 0,"
	"  price_per_hour REAL NOT NULL DEFAULT 0,"
	"  gpus TEXT,"
	"  instance_id TEXT,"
	"  started_at INTEGER NOT NULL,"
	"  ended_at INTEGER NOT NULL DEFAULT 0,"
	"  outcome TEXT,"
	"  exit_code INTEGER,"
	"  PRIMARY KEY (job_id, n));"
	"CREATE INDEX attempts_live ON attempts(ended_at);"
	"CREATE TABLE resources ("
	"  id INTEGER PRIMARY KEY,"
	"  job_id TEXT NOT NULL,"
	"  attempt INTEGER NOT NULL,"
	"  provider TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  token TEXT NOT NULL UNIQUE,"
	"  provider_id TEXT,"
	"  state TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE INDEX resources_open ON resources(state);"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  job_id TEXT,"
	"  at INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  message TEXT NOT NULL);"
	"CREATE INDEX events_job ON events(job_id, id);"
	"CREATE TABLE costs ("
	"  job_id TEXT NOT NULL,"
	"  attempt INTEGER NOT NULL,"
	"  backend TEXT NOT NULL,"
	"  seconds REAL NOT NULL,"
	"  usd REAL NOT NULL,"
	"  recorded_at INTEGER NOT NULL,"
	"  PRIMARY KEY (job_id, attempt));",
	/* 1 -> 2: preemption notices and blocked locations */
	"ALTER TABLE attempts ADD COLUMN notice_deadline INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE blocked ("
	"  backend TEXT NOT NULL,"
	"  region TEXT NOT NULL,"
	"  zone TEXT NOT NULL,"
	"  until INTEGER NOT NULL,"
	"  reason TEXT,"
	"  PRIMARY KEY (backend, region, zone));",
	/* 2 -> 3: sweeps, trial parameters, metrics, per-job budgets */
	"CREATE TABLE sweeps ("
	"  id TEXT PRIMARY KEY,"
	"  seq INTEGER NOT NULL,"
	"  name TEXT,"
	"  method TEXT NOT NULL,"
	"  max_parallel INTEGER NOT NULL DEFAULT 0,"
	"  budget REAL NOT NULL DEFAULT 0,"
	"  seed INTEGER NOT NULL DEFAULT 0,"
	"  trials INTEGER NOT NULL DEFAULT 0,"
	"  refused INTEGER NOT NULL DEFAULT 0,"
	"  submitted_at INTEGER NOT NULL);"
	"ALTER TABLE jobs ADD COLUMN params_json TEXT;"
	"ALTER TABLE jobs ADD COLUMN metrics_json TEXT;"
	"ALTER TABLE jobs ADD COLUMN budget REAL NOT NULL DEFAULT 0;"
	"CREATE INDEX jobs_sweep ON jobs(sweep_id, seq);",
	/* 3 -> 4: money in exact micro-dollars; where a price came from */
	"ALTER TABLE jobs ADD COLUMN cost_micro INTEGER NOT NULL DEFAULT 0;"
	"UPDATE jobs SET cost_micro = CAST(round(cost_usd * 1000000) AS INTEGER);"
	"ALTER TABLE costs ADD COLUMN usd_micro INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE costs ADD COLUMN billed_seconds INTEGER NOT NULL DEFAULT 0;"
	"UPDATE costs SET usd_micro = CAST(round(usd * 1000000) AS INTEGER),"
	"  billed_seconds = CAST(round(seconds) AS INTEGER);"
	"CREATE INDEX costs_recorded ON costs(recorded_at);"
	"ALTER TABLE attempts ADD COLUMN price_source TEXT;",
	/* 4 -> 5: the storage a job was submitted with (NULL: older jobs) */
	"ALTER TABLE jobs ADD COLUMN storage_url TEXT;",
	/* 5 -> 6: the part of price_per_hour that is the attempt's volumes */
	"ALTER TABLE attempts ADD COLUMN volume_price_per_hour REAL NOT NULL DEFAULT 0;",
	/* 6 -> 7: a job's ledger rows without a scan of every row (the
	 * controller reads them at each launch, close and teardown) */
	"CREATE INDEX resources_job ON resources(job_id, state);",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int store_schema_version(void)
{
	return N_MIGRATIONS;
}

/* What to do about a database SQLite cannot read, or "". */
static const char *damage_hint(int code)
{
	switch (code & 0xff) {
	case SQLITE_IOERR:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return "; the database or its -wal/-shm file is damaged: stop the controller"
		       " ('frugal controller --stop'), copy the state.db* files aside and"
		       " recover them ('sqlite3 state.db .recover'); meanwhile 'frugal cancel"
		       " JOB' still ends a job's machines through each backend";
	case SQLITE_FULL:
		return "; the disk is full: free space, then try again";
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN:
		return "; check that the file and its folder are writable by this user";
	}
	return "";
}

static int db_error(struct store *st, struct error *err, const char *what)
{
	int code = st->db ? sqlite3_extended_errcode(st->db) : SQLITE_CANTOPEN;

	return error_set(err, FRUGAL_EDB, "%s in '%s': %s%s", what, st->path,
			 st->db ? sqlite3_errmsg(st->db) : "cannot open", damage_hint(code));
}

static int exec_sql(struct store *st, const char *sql, struct error *err)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int r = error_set(err, FRUGAL_EDB, "database '%s': %s%s", st->path,
				  msg ? msg : sqlite3_errmsg(st->db),
				  damage_hint(sqlite3_extended_errcode(st->db)));
		sqlite3_free(msg);
		return r;
	}
	return 0;
}

static int prepare(struct store *st, const char *sql, sqlite3_stmt **ret, struct error *err)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, ret, NULL) != SQLITE_OK)
		return db_error(st, err, "cannot prepare a query");
	return 0;
}

int store_begin(struct store *st, struct error *err)
{
	return exec_sql(st, "BEGIN IMMEDIATE", err);
}

int store_commit(struct store *st, struct error *err)
{
	return exec_sql(st, "COMMIT", err);
}

void store_rollback(struct store *st)
{
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Bring the schema to the newest version, one transaction per step. */
static int migrate(struct store *st, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int version, r;

	if ((r = store_begin(st, err)) < 0)
		return r;
	if ((r = prepare(st, "PRAGMA user_version", &q, err)) < 0)
		goto fail;
	sqlite3_step(q);
	version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (version > N_MIGRATIONS) {
		r = error_set(err, FRUGAL_EDB,
			      "database '%s' has schema version %d but this frugal knows %d: "
			      "upgrade frugal", st->path, version, N_MIGRATIONS);
		goto fail;
	}
	for (; version < N_MIGRATIONS; version++) {
		char pragma[64];

		if ((r = exec_sql(st, migrations[version], err)) < 0)
			goto fail;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
		if ((r = exec_sql(st, pragma, err)) < 0)
			goto fail;
	}
	return store_commit(st, err);
fail:
	store_rollback(st);
	return r;
}

int store_open(const char *path, struct store **ret, struct error *err)
{
	struct store *st = xcalloc(1, sizeof(*st));
	int fd, r;

	st->path = xstrdup(path);
	/* Create the file ourselves so it is 0600 from the first byte. */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = error_errno(err, "cannot open database '%s'", path);
		goto fail;
	}
	close(fd);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		r = db_error(st, err, "cannot open database");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 10000);
	if ((r = exec_sql(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			  " PRAGMA foreign_keys=ON;", err)) < 0)
		goto fail;
	if ((r = migrate(st, err)) < 0)
		goto fail;
	*ret = st;
	return 0;
fail:
	store_free(st);
	return r;
}

void store_free(struct store *st)
{
	if (!st)
		return;
	if (st->db)
		sqlite3_close(st->db);
	free(st->path);
	free(st);
}

/* ---- small helpers ---- */

static char *col_str(sqlite3_stmt *q, int i)
{
	const unsigned char *s = sqlite3_column_text(q, i);

	return s ? xstrdup((const char *)s) : NULL;
}

static void col_id(sqlite3_stmt *q, int i, char out[JOB_ID_MAX])
{
	const unsigned char *s = sqlite3_column_text(q, i);

	snprintf(out, JOB_ID_MAX, "%s", s ? (const char *)s : "");
}

static void bind_text(sqlite3_stmt *q, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(q, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, i);
}

/* Step a statement that returns no rows; finalizes it. */
static int step_done(struct store *st, sqlite3_stmt *q, struct error *err, const char *what)
{
	int rc = sqlite3_step(q);
	int r = 0;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = db_error(st, err, what);
	sqlite3_finalize(q);
	return r;
}

static const char *const status_names[] = {
	"PENDING", "PROVISIONING", "STARTING", "RUNNING", "RECOVERING",
	"SUCCEEDED", "FAILED", "CANCELLED",
};

const char *job_status_name(enum job_status s)
{
	if ((unsigned)s < sizeof(status_names) / sizeof(status_names[0]))
		return status_names[s];
	return "UNKNOWN";
}

static const char *const outcome_names[] = {
	[OUTCOME_SUCCEEDED] = "succeeded",
	[OUTCOME_FAILED] = "failed",
	[OUTCOME_PREEMPTED] = "preempted",
	[OUTCOME_CANCELLED] = "cancelled",
	[OUTCOME_TIMED_OUT] = "timed_out",
	[OUTCOME_LAUNCH_FAILED] = "launch_failed",
	[OUTCOME_OUTPUTS_FAILED] = "outputs_failed",
	[OUTCOME_BUDGET_STOPPED] = "budget_stopped",
	[OUTCOME_LOST] = "lost",
	[OUTCOME_ORPHANED] = "orphaned",
};

const char *attempt_outcome_name(enum attempt_outcome o)
{
	if (o > OUTCOME_NONE && (size_t)o < sizeof(outcome_names) / sizeof(outcome_names[0]))
		return outcome_names[o];
	return NULL;
}

enum attempt_outcome attempt_outcome_from_name(const char *name)
{
	size_t i;

	if (!name)
		return OUTCOME_NONE;
	for (i = 1; i < sizeof(outcome_names) / sizeof(outcome_names[0]); i++)
		if (outcome_names[i] && !strcmp(name, outcome_names[i]))
			return (enum attempt_outcome)i;
	return OUTCOME_FAILED;
}

int job_status_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (name && !strcasecmp(name, status_names[i]))
			return (int)i;
	return -1;
}

int job_status_is_terminal(enum job_status s)
{
	return s == JOB_SUCCEEDED || s == JOB_FAILED || s == JOB_CANCELLED;
}

static const char *const res_state_names[] = { "creating", "live", "deleting", "gone" };

const char *resource_state_name(enum resource_state s)
{
	if ((unsigned)s < 4)
		return res_state_names[s];
	return "unknown";
}

static enum resource_state res_state_from(const char *s)
{
	int i;

	for (i = 0; i < 4; i++)
		if (s && !strcmp(s, res_state_names[i]))
			return (enum resource_state)i;
	return RES_CREATING;
}

/* ---- jobs ---- */

void job_release(struct job *j)
{
	free(j->name);
	free(j->task_json);
	free(j->backend);
	free(j->accelerators);
	free(j->outputs_url);
	free(j->storage_url);
	free(j->reason);
	free(j->sweep_id);
	free(j->params_json);
	free(j->metrics_json);
	memset(j, 0, sizeof(*j));
}

void job_list_release(struct job_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		job_release(&l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* Short ids people can type: 6 letters/digits without look-alikes. */
static void new_job_id(char out[JOB_ID_MAX])
{
	static const char alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";
	unsigned char rnd[6];
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		int64_t t = time_mono_ms() ^ (int64_t)getpid() << 20;
		memcpy(rnd, &t, sizeof(rnd));
	}
	/* A letter first, so an id never looks like a number. */
	out[0] = alphabet[rnd[0] % 23];
	for (i = 1; i < sizeof(rnd); i++)
		out[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
	out[sizeof(rnd)] = '\0';
}

#define JOB_COLS "j.id, j.seq, j.name, j.status, j.task_json, j.backend, j.accelerators," \
	" j.gpus, j.submitted_at, j.updated_at, j.ended_at, j.restarts, j.error_restarts," \
	" j.cost_usd, j.outputs_url, j.reason, j.cancel_requested, j.sweep_id," \
	" (SELECT count(*) FROM attempts a WHERE a.job_id = j.id)," \
	" j.params_json, j.metrics_json, j.budget, j.cost_micro," \
	" (SELECT coalesce(sum(a.ended_at - a.started_at), 0) FROM attempts a" \
	"  WHERE a.job_id = j.id AND a.ended_at > 0)" \
	", j.storage_url"
#define JOB_COLS_LIGHT "j.id, j.seq, j.name, j.status, NULL, j.backend, j.accelerators," \
	" j.gpus, j.submitted_at, j.updated_at, j.ended_at, j.restarts, j.error_restarts," \
	" j.cost_usd, j.outputs_url, j.reason, j.cancel_requested, j.sweep_id," \
	" 0," \
	" j.params_json, j.metrics_json, j.budget, j.cost_micro," \
	" (SELECT coalesce(sum(a.ended_at - a.started_at), 0) FROM attempts a" \
	"  WHERE a.job_id = j.id AND a.ended_at > 0)" \
	", j.storage_url"

static void read_job(sqlite3_stmt *q, struct job *j)
{
	int s;

	memset(j, 0, sizeof(*j));
	col_id(q, 0, j->id);
	j->seq = sqlite3_column_int64(q, 1);
	j->name = col_str(q, 2);
	s = job_status_from_name((const char *)sqlite3_column_text(q, 3));
	j->status = s < 0 ? JOB_FAILED : (enum job_status)s;
	j->task_json = col_str(q, 4);
	j->backend = col_str(q, 5);
	j->accelerators = col_str(q, 6);
	j->gpus = sqlite3_column_int(q, 7);
	j->submitted_at = sqlite3_column_int64(q, 8);
	j->updated_at = sqlite3_column_int64(q, 9);
	j->ended_at = sqlite3_column_int64(q, 10);
	j->restarts = sqlite3_column_int(q, 11);
	j->error_restarts = sqlite3_column_int(q, 12);
	j->cost_usd = sqlite3_column_double(q, 13);
	j->outputs_url = col_str(q, 14);
	j->reason = col_str(q, 15);
	j->cancel_requested = (enum job_cancel)sqlite3_column_int(q, 16);
	j->sweep_id = col_str(q, 17);
	j->n_attempts = sqlite3_column_int(q, 18);
	j->params_json = col_str(q, 19);
	j->metrics_json = col_str(q, 20);
	j->budget = sqlite3_column_double(q, 21);
	j->cost_micro = sqlite3_column_int64(q, 22);
	j->cost_usd = money_to_usd(j->cost_micro);
	j->ran_ms = sqlite3_column_int64(q, 23);
	j->storage_url = col_str(q, 24);
}

int store_job_insert(struct store *st, struct job *j, const void *secrets_box,
		     size_t secrets_len, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int64_t now = time_now_ms();
	int r, tries;

	if ((r = store_begin(st, err)) < 0)
		return r;
	for (tries = 0; tries < 20; tries++) {
		int rc;

		new_job_id(j->id);
		if ((r = prepare(st,
			"INSERT INTO jobs (id, seq, name, status, task_json, backend, accelerators,"
			" gpus, submitted_at, updated_at, outputs_url, sweep_id, secrets_box,"
			" params_json, budget, storage_url)"
			" VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM jobs), ?2, 'PENDING',"
			" ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10, ?11, ?12, ?13) RETURNING seq", &q, err)) < 0)
			goto fail;
		sqlite3_bind_text(q, 1, j->id, -1, SQLITE_TRANSIENT);
		bind_text(q, 2, j->name);
		bind_text(q, 3, j->task_json);
		bind_text(q, 4, j->backend);
		bind_text(q, 5, j->accelerators ? j->accelerators : "-");
		sqlite3_bind_int(q, 6, j->gpus);
		sqlite3_bind_int64(q, 7, now);
		bind_text(q, 8, j->outputs_url);
		bind_text(q, 9, j->sweep_id);
		if (secrets_box && secrets_len)
			sqlite3_bind_blob(q, 10, secrets_box, (int)secrets_len, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(q, 10);
		bind_text(q, 11, j->params_json);
		sqlite3_bind_double(q, 12, j->budget);
		bind_text(q, 13, j->storage_url);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			j->seq = sqlite3_column_int64(q, 0);
			sqlite3_finalize(q);
			j->status = JOB_PENDING;
			j->submitted_at = j->updated_at = now;
			return store_commit(st, err);
		}
		sqlite3_finalize(q);
		if (rc != SQLITE_CONSTRAINT) {
			r = db_error(st, err, "cannot record the job");
			goto fail;
		}
	}
	r = error_set(err, FRUGAL_EDB, "cannot find a free job id in '%s'", st->path);
fail:
	store_rollback(st);
	return r;
}

int store_job_get(struct store *st, const char *id_or_name, struct job *ret,
		  struct error *err)
{
	sqlite3_stmt *q = NULL;
	int r;

	if ((r = prepare(st, "SELECT " JOB_COLS " FROM jobs j WHERE j.id = ?1"
			 " UNION ALL SELECT * FROM (SELECT " JOB_COLS " FROM jobs j"
			 " WHERE j.name = ?1 ORDER BY j.seq DESC LIMIT 1) LIMIT 1", &q, err)) < 0)
		return r;
	sqlite3_bind_text(q, 1, id_or_name, -1, SQLITE_TRANSIENT);
	switch (sqlite3_step(q)) {
	case SQLITE_ROW:
		read_job(q, ret);
		r = 0;
		break;
	case SQLITE_DONE:
		r = error_set(err, FRUGAL_ENOTFOUND, "no job '%s' (see 'frugal status --all')",
			      id_or_name);
		break;
	default:
		r = db_error(st, err, "cannot read jobs");
	}
	sqlite3_finalize(q);
	return r;
}

static int collect_jobs(struct store *st, sqlite3_stmt *q, struct job_list *ret,
			struct error *err)
{
	struct job_list l = { 0 };
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		XGROW(l.items, l.n + 1, l.alloc);
		read_job(q, &l.items[l.n++]);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		job_list_release(&l);
		return db_error(st, err, "cannot read jobs");
	}
	*ret = l;
	return 0;
}

int store_job_list(struct store *st, int live_only, int recent, struct job_list *ret,
		   struct error *err)
{
	sqlite3_stmt *q = NULL;
	int r;

	if (!live_only)
		r = prepare(st, "SELECT " JOB_COLS_LIGHT " FROM jobs j ORDER BY j.seq", &q, err);
	else
		r = prepare(st, "SELECT * FROM (SELECT " JOB_COLS_LIGHT " FROM jobs j"
			    " WHERE j.ended_at = 0"
			    " UNION ALL SELECT * FROM (SELECT " JOB_COLS_LIGHT " FROM jobs j"
			    " WHERE j.ended_at != 0 ORDER BY j.seq DESC LIMIT ?1))"
			    " ORDER BY 2", &q, err);
	if (r < 0)
		return r;
	if (live_only)
		sqlite3_bind_int(q, 1, recent);
	return collect_jobs(st, q, ret, err);
}

int store_job_count(struct store *st, int64_t *ret_finished, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int r;

	if ((r = prepare(st, "SELECT count(*) FROM jobs WHERE ended_at != 0", &q, err)) < 0)
		return r;
	if (sqlite3_step(q) == SQLITE_ROW)
		*ret_finished = sqlite3_column_int64(q, 0);
	else
		r = db_error(st, err, "cannot count jobs");
	sqlite3_finalize(q);
	return r;
}

int store_job_list_live(struct store *st, struct job_list *ret, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int r;

	if ((r = prepare(st, "SELECT " JOB_COLS " FROM jobs j WHERE j.ended_at = 0"
			 " ORDER BY j.seq", &q, err)) < 0)
		return r;
	return collect_jobs(st, q, ret, err);
}

int store_job_secrets(struct store *st, const char *id, void **ret, size_t *ret_len,
		      struct error *err)
{
	sqlite3_stmt *q = NULL;
	int r = 0;

	if ((r = prepare(st, "SELECT secrets_box FROM jobs WHERE id = ?1", &q, err)) < 0)
		return r;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW) {
		int n = sqlite3_column_bytes(q, 0);
		const void *b = sqlite3_column_blob(q, 0);
		if (b && n > 0) {
			*ret = xmalloc((size_t)n);
			memcpy(*ret, b, (size_t)n);
			*ret_len = (size_t)n;
		} else {
			*ret = NULL;
			*ret_len = 0;
		}
	} else {
		r = error_set(err, FRUGAL_ENOTFOUND, "no job '%s'", id);
	}
	sqlite3_finalize(q);
	return r;
}

int store_job_storage_url(struct store *st, const char *id, char **ret, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int r;

	if ((r = prepare(st, "SELECT storage_url FROM jobs WHERE id = ?1", &q, err)) < 0)
		return r;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW)
		*ret = col_str(q, 0);
	else
		r = error_set(err, FRUGAL_ENOTFOUND, "no job '%s'", id);
	sqlite3_finalize(q);
	return r;
}

/* Run one UPDATE/INSERT with text and int64 arguments given as a format:
 * 's' text, 'i' int64, 'd' double, 'n' null. */
static int run_sql(struct store *st, struct error *err, const char *sql,
		   const char *types, ...)
{
	sqlite3_stmt *q = NULL;
	va_list ap;
	int r, i;

	if ((r = prepare(st, sql, &q, err)) < 0)
		return r;
	va_start(ap, types);
	for (i = 0; types[i]; i++) {
		switch (types[i]) {
		case 's': bind_text(q, i + 1, va_arg(ap, const char *)); break;
		case 'i': sqlite3_bind_int64(q, i + 1, va_arg(ap, int64_t)); break;
		case 'd': sqlite3_bind_double(q, i + 1, va_arg(ap, double)); break;
		default: sqlite3_bind_null(q, i + 1); break;
		}
	}
	va_end(ap);
	return step_done(st, q, err, "cannot update the database");
}

int store_job_set_metrics(struct store *st, const char *id, const char *metrics_json,
			  struct error *err)
{
	return run_sql(st, err, "UPDATE jobs SET metrics_json = ?2 WHERE id = ?1", "ss", id,
		       metrics_json);
}

int store_job_list_sweep(struct store *st, const char *sweep_id, struct job_list *ret,
			 struct error *err)
{
	sqlite3_stmt *q = NULL;
	int r;

	if ((r = prepare(st, "SELECT " JOB_COLS " FROM jobs j WHERE j.sweep_id = ?1"
			 " ORDER BY j.seq", &q, err)) < 0)
		return r;
	sqlite3_bind_text(q, 1, sweep_id, -1, SQLITE_TRANSIENT);
	return collect_jobs(st, q, ret, err);
}

/* ---- sweeps ---- */

void sweep_row_release(struct sweep_row *s)
{
	free(s->name);
	free(s->method);
	memset(s, 0, sizeof(*s));
}

int store_sweep_insert(struct store *st, struct sweep_row *s, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int r, tries;

	for (tries = 0; tries < 20; tries++) {
		char id[JOB_ID_MAX];
		int rc;

		new_job_id(id);
		snprintf(s->id, sizeof(s->id), "sw%.5s", id + 1);
		if ((r = prepare(st, "INSERT INTO sweeps (id, seq, name, method, max_parallel, budget,"
				 " seed, trials, refused, submitted_at) VALUES (?1, (SELECT"
				 " coalesce(max(seq), 0) + 1 FROM sweeps), ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
				 " ?9)", &q, err)) < 0)
			return r;
		sqlite3_bind_text(q, 1, s->id, -1, SQLITE_TRANSIENT);
		bind_text(q, 2, s->name);
		bind_text(q, 3, s->method);
		sqlite3_bind_int(q, 4, s->max_parallel);
		sqlite3_bind_double(q, 5, s->budget);
		sqlite3_bind_int64(q, 6, s->seed);
		sqlite3_bind_int(q, 7, s->trials);
		sqlite3_bind_int(q, 8, s->refused);
		sqlite3_bind_int64(q, 9, time_now_ms());
		rc = sqlite3_step(q);
		sqlite3_finalize(q);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_CONSTRAINT)
			return db_error(st, err, "cannot record the sweep");
	}
	return error_set(err, FRUGAL_EDB, "cannot find a free sweep id in '%s'", st->path);
}

int store_sweep_get(struct store *st, const char *id, struct sweep_row *ret,
		    struct error *err)
{
	sqlite3_stmt *q = NULL;
	int r;

	if ((r = prepare(st, "SELECT id, name, method, max_parallel, budget, seed, trials,"
			 " refused, submitted_at FROM sweeps WHERE id = ?1 OR (name = ?1 AND"
			 " id = (SELECT id FROM sweeps WHERE name = ?1 ORDER BY seq DESC LIMIT 1))",
			 &q, err)) < 0)
		return r;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW) {
		memset(ret, 0, sizeof(*ret));
		col_id(q, 0, ret->id);
		ret->name = col_str(q, 1);
		ret->method = col_str(q, 2);
		ret->max_parallel = sqlite3_column_int(q, 3);
		ret->budget = sqlite3_column_double(q, 4);
		ret->seed = sqlite3_column_int64(q, 5);
		ret->trials = sqlite3_column_int(q, 6);
		ret->refused = sqlite3_column_int(q, 7);
		ret->submitted_at = sqlite3_column_int64(q, 8);
		r = 0;
	} else {
		r = error_set(err, FRUGAL_ENOTFOUND, "no sweep '%s'", id);
	}
	sqlite3_finalize(q);
	return r;
}

int store_job_drop_secrets(struct store *st, const char *id, struct error *err)
{
	return run_sql(st, err, "UPDATE jobs SET secrets_box = NULL WHERE id = ?1", "s", id);
}

int store_job_set_status(struct store *st, const char *id, enum job_status s,
			 const char *reason, struct error *err)
{
	int64_t now = time_now_ms();

	return run_sql(st, err,
		       "UPDATE jobs SET status = ?2, reason = coalesce(?3, reason),"
		       " updated_at = ?4, ended_at = CASE WHEN ?5 THEN ?4 ELSE 0 END"
		       " WHERE id = ?1", "sssii", id, job_status_name(s), reason, now,
		       (int64_t)job_status_is_terminal(s));
}

int store_job_request_cancel(struct store *st, const char *id, struct error *err)
{
	return run_sql(st, err, "UPDATE jobs SET cancel_requested = 1, updated_at = ?2"
		       " WHERE id = ?1", "si", id, time_now_ms());
}

int store_job_request_stop(struct store *st, const char *id, const char *reason,
			   struct error *err)
{
	return run_sql(st, err, "UPDATE jobs SET cancel_requested = 2, reason = ?2,"
		       " updated_at = ?3 WHERE id = ?1 AND cancel_requested = 0", "ssi", id, reason,
		       time_now_ms());
}

/* Sum of one integer column query with one text or int64 argument. */
static int sum_query(struct store *st, const char *sql, const char *text, int64_t num,
		     int64_t *ret, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int r;

	if ((r = prepare(st, sql, &q, err)) < 0)
		return r;
	if (text)
		sqlite3_bind_text(q, 1, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_int64(q, 1, num);
	if (sqlite3_step(q) == SQLITE_ROW) {
		*ret = sqlite3_column_int64(q, 0);
		r = 0;
	} else {
		r = db_error(st, err, "cannot sum costs");
	}
	sqlite3_finalize(q);
	return r;
}

int store_sweep_spent(struct store *st, const char *sweep_id, int64_t *ret_micro,
		      struct error *err)
{
	return sum_query(st, "SELECT coalesce(sum(cost_micro), 0) FROM jobs WHERE sweep_id = ?1",
			 sweep_id, 0, ret_micro, err);
}

int store_cost_since(struct store *st, int64_t since_ms, int64_t *ret_micro,
		     struct error *err)
{
	return sum_query(st, "SELECT coalesce(sum(usd_micro), 0) FROM costs"
			 " WHERE recorded_at >= ?1", NULL, since_ms, ret_micro, err);
}

int store_job_set_counts(struct store *st, const char *id, int restarts,
			 int error_restarts, struct error *err)
{
	return run_sql(st, err, "UPDATE jobs SET restarts = ?2, error_restarts = ?3"
		       " WHERE id = ?1", "sii", id, (int64_t)restarts, (int64_t)error_restarts);
}

int store_job_add_cost(struct store *st, const char *id, int64_t micro, struct error *err)
{
	return run_sql(st, err, "UPDATE jobs SET cost_micro = cost_micro + ?2,"
		       " cost_usd = (cost_micro + ?2) / 1000000.0 WHERE id = ?1", "si", id, micro);
}

int store_job_set_outputs_url(struct store *st, const char *id, const char *url,
			      struct error *err)
{
	return run_sql(st, err, "UPDATE jobs SET outputs_url = ?2 WHERE id = ?1", "ss", id, url);
}

/* ---- attempts ---- */

void attempt_release(struct attempt *a)
{
	free(a->backend);
	free(a->region);
	free(a->zone);
	free(a->instance_type);
	free(a->gpus);
	free(a->instance_id);
	free(a->outcome);
	free(a->price_source);
	memset(a, 0, sizeof(*a));
}

void attempt_list_release(struct attempt_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		attempt_release(&l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

#define ATTEMPT_COLS "job_id, n, backend, region, zone, instance_type, spot, price_per_hour," \
	" gpus, instance_id, started_at, ended_at, outcome, exit_code, notice_deadline," \
	" price_source," \
	" (SELECT c.billed_seconds FROM costs c WHERE c.job_id = attempts.job_id" \
	"  AND c.attempt = attempts.n)," \
	" (SELECT c.usd_micro FROM costs c WHERE c.job_id = attempts.job_id" \
	"  AND c.attempt = attempts.n), volume_price_per_hour"

/* An attempt from ATTEMPT_COLS starting at column b of q. */
static void read_attempt_at(sqlite3_stmt *q, int b, struct attempt *a)
{
	memset(a, 0, sizeof(*a));
	col_id(q, b + 0, a->job_id);
	a->n = sqlite3_column_int(q, b + 1);
	a->backend = col_str(q, b + 2);
	a->region = col_str(q, b + 3);
	a->zone = col_str(q, b + 4);
	a->instance_type = col_str(q, b + 5);
	a->spot = sqlite3_column_int(q, b + 6);
	a->price_per_hour = sqlite3_column_double(q, b + 7);
	a->gpus = col_str(q, b + 8);
	a->instance_id = col_str(q, b + 9);
	a->started_at = sqlite3_column_int64(q, b + 10);
	a->ended_at = sqlite3_column_int64(q, b + 11);
	a->outcome = col_str(q, b + 12);
	a->has_exit_code = sqlite3_column_type(q, b + 13) != SQLITE_NULL;
	a->exit_code = sqlite3_column_int(q, b + 13);
	a->notice_deadline = sqlite3_column_int64(q, b + 14);
	a->price_source = col_str(q, b + 15);
	a->has_cost = sqlite3_column_type(q, b + 17) != SQLITE_NULL;
	a->billed_seconds = sqlite3_column_int64(q, b + 16);
	a->cost_micro = sqlite3_column_int64(q, b + 17);
	a->volume_price_per_hour = sqlite3_column_double(q, b + 18);
}

static void read_attempt(sqlite3_stmt *q, struct attempt *a)
{
	read_attempt_at(q, 0, a);
}

/* The job columns of store_job_each: JOB_COLS_LIGHT without its per-job
 * subquery (n_attempts and ran_ms are counted from the joined rows). */
#define JOB_COLS_EACH "j.id, j.seq, j.name, j.status, NULL, j.backend, j.accelerators," \
	" j.gpus, j.submitted_at, j.updated_at, j.ended_at, j.restarts, j.error_restarts," \
	" j.cost_usd, j.outputs_url, j.reason, j.cancel_requested, j.sweep_id," \
	" 0, j.params_json, j.metrics_json, j.budget, j.cost_micro, 0, j.storage_url"
#define JOB_COLS_EACH_N 25
/* ATTEMPT_COLS qualified (the join has jobs' columns of the same names),
 * the ledger's columns from a join rather than a subquery each. */
#define ATTEMPT_COLS_Q "attempts.job_id, attempts.n, attempts.backend, attempts.region," \
	" attempts.zone, attempts.instance_type, attempts.spot, attempts.price_per_hour," \
	" attempts.gpus, attempts.instance_id, attempts.started_at, attempts.ended_at," \
	" attempts.outcome, attempts.exit_code, attempts.notice_deadline," \
	" attempts.price_source, c.billed_seconds, c.usd_micro, attempts.volume_price_per_hour"
/* ... with the ledger row of each attempt joined (ATTEMPT_COLS_Q's c). */
#define ATTEMPT_JOIN_Q " LEFT JOIN attempts ON attempts.job_id = j.id" \
	" LEFT JOIN costs c ON c.job_id = attempts.job_id AND c.attempt = attempts.n"

int store_job_each(struct store *st, int live_only, int recent, int with_attempts,
		   store_job_fn *fn, void *ctx, struct error *err)
{
	struct job j = { 0 };
	struct attempt_list al = { 0 };
	sqlite3_stmt *q = NULL;
	int r, rc, have = 0, stop = 0;

	if (!with_attempts) {
		/* The jobs alone: store_job_list's query, one row at a time. */
		if (!live_only)
			r = prepare(st, "SELECT " JOB_COLS_LIGHT " FROM jobs j ORDER BY j.seq", &q,
				    err);
		else
			r = prepare(st, "SELECT * FROM (SELECT " JOB_COLS_LIGHT " FROM jobs j"
				    " WHERE j.ended_at = 0"
				    " UNION ALL SELECT * FROM (SELECT " JOB_COLS_LIGHT " FROM jobs j"
				    " WHERE j.ended_at != 0 ORDER BY j.seq DESC LIMIT ?1))"
				    " ORDER BY 2", &q, err);
		if (r < 0)
			return r;
		if (live_only)
			sqlite3_bind_int(q, 1, recent);
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			read_job(q, &j);
			stop = fn(&j, &al, ctx);
			job_release(&j);
			if (stop) {
				rc = SQLITE_DONE;
				break;
			}
		}
		sqlite3_finalize(q);
		return rc == SQLITE_DONE ? 0 : db_error(st, err, "cannot read jobs");
	}
	if (!live_only)
		r = prepare(st, "SELECT " JOB_COLS_EACH ", " ATTEMPT_COLS_Q " FROM jobs j"
			    ATTEMPT_JOIN_Q " ORDER BY j.seq, attempts.n", &q, err);
	else
		r = prepare(st, "SELECT " JOB_COLS_EACH ", " ATTEMPT_COLS_Q " FROM"
			    " (SELECT * FROM jobs WHERE ended_at = 0 UNION ALL SELECT * FROM"
			    "  (SELECT * FROM jobs WHERE ended_at != 0 ORDER BY seq DESC LIMIT ?1)) j"
			    ATTEMPT_JOIN_Q " ORDER BY j.seq, attempts.n", &q, err);
	if (r < 0)
		return r;
	if (live_only)
		sqlite3_bind_int(q, 1, recent);
	while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(q, 0);

		if (have && strcmp(j.id, id ? id : "")) {
			stop = fn(&j, &al, ctx);
			job_release(&j);
			attempt_list_release(&al);
			have = 0;
			if (stop)
				break;
		}
		if (!have) {
			read_job(q, &j);
			have = 1;
		}
		if (sqlite3_column_type(q, JOB_COLS_EACH_N) != SQLITE_NULL) {
			struct attempt *a;

			XGROW(al.items, al.n + 1, al.alloc);
			a = &al.items[al.n++];
			read_attempt_at(q, JOB_COLS_EACH_N, a);
			j.n_attempts++;
			if (a->ended_at > 0)	/* as JOB_COLS counts ran_ms */
				j.ran_ms += a->ended_at - a->started_at;
		}
	}
	if (stop)
		rc = SQLITE_DONE;
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		r = db_error(st, err, "cannot read jobs");
	else if (have)
		fn(&j, &al, ctx);
	job_release(&j);
	attempt_list_release(&al);
	return r;
}

int store_attempt_insert(struct store *st, const struct attempt *a, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int r;

	if ((r = prepare(st, "INSERT INTO attempts (job_id, n, backend, region, zone,"
			 " instance_type, spot, price_per_hour, gpus, instance_id, started_at,"
			 " price_source, volume_price_per_hour)"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)", &q,
			 err)) < 0)
		return r;
	sqlite3_bind_text(q, 1, a->job_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 2, a->n);
	bind_text(q, 3, a->backend);
	bind_text(q, 4, a->region);
	bind_text(q, 5, a->zone);
	bind_text(q, 6, a->instance_type);
	sqlite3_bind_int(q, 7, a->spot);
	sqlite3_bind_double(q, 8, a->price_per_hour);
	bind_text(q, 9, a->gpus);
	bind_text(q, 10, a->instance_id);
	sqlite3_bind_int64(q, 11, a->started_at);
	bind_text(q, 12, a->price_source);
	sqlite3_bind_double(q, 13, a->volume_price_per_hour);
	return step_done(st, q, err, "cannot record the attempt");
}

static int collect_attempts(struct store *st, sqlite3_stmt *q, struct attempt_list *ret,
			    struct error *err)
{
	struct attempt_list l = { 0 };
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		XGROW(l.items, l.n + 1, l.alloc);
		read_attempt(q, &l.items[l.n++]);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		attempt_list_release(&l);
		return db_error(st, err, "cannot read attempts");
	}
	*ret = l;
	return 0;
}

int store_attempt_get(struct store *st, const char *job_id, int n, struct attempt *ret,
		      struct error *err)
{
	struct attempt_list l = { 0 };
	sqlite3_stmt *q = NULL;
	int r;

	if ((r = prepare(st, "SELECT " ATTEMPT_COLS " FROM attempts WHERE job_id = ?1 AND n = ?2",
			 &q, err)) < 0)
		return r;
	sqlite3_bind_text(q, 1, job_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 2, n);
	if ((r = collect_attempts(st, q, &l, err)) < 0)
		return r;
	if (l.n == 0) {
		attempt_list_release(&l);
		return error_set(err, FRUGAL_ENOTFOUND, "job '%s' has no attempt %d", job_id, n);
	}
	*ret = l.items[0];
	free(l.items);
	return 0;
}

int store_attempt_list(struct store *st, const char *job_id, struct attempt_list *ret,
		       struct error *err)
{
	sqlite3_stmt *q = NULL;
	int r;

	if ((r = prepare(st, "SELECT " ATTEMPT_COLS " FROM attempts WHERE job_id = ?1 ORDER BY n",
			 &q, err)) < 0)
		return r;
	sqlite3_bind_text(q, 1, job_id, -1, SQLITE_TRANSIENT);
	return collect_attempts(st, q, ret, err);
}

int store_attempt_list_live(struct store *st, struct attempt_list *ret, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int r;

	if ((r = prepare(st, "SELECT " ATTEMPT_COLS " FROM attempts WHERE ended_at = 0"
			 " ORDER BY started_at", &q, err)) < 0)
		return r;
	return collect_attempts(st, q, ret, err);
}

int store_attempt_list_live_gpus(struct store *st, const char *backend,
				 struct attempt_list *ret, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int r;

	if ((r = prepare(st, "SELECT " ATTEMPT_COLS " FROM attempts WHERE ended_at = 0"
			 " AND backend = ?1 AND gpus IS NOT NULL AND gpus != ''"
			 " ORDER BY started_at", &q, err)) < 0)
		return r;
	bind_text(q, 1, backend);
	return collect_attempts(st, q, ret, err);
}

int store_attempt_set_instance(struct store *st, const char *job_id, int n,
			       const char *instance_id, struct error *err)
{
	return run_sql(st, err, "UPDATE attempts SET instance_id = ?3 WHERE job_id = ?1 AND n = ?2",
		       "sis", job_id, (int64_t)n, instance_id);
}

int store_attempt_set_outcome(struct store *st, const char *job_id, int n, const char *outcome,
			      int has_exit, int exit_code, struct error *err)
{
	if (has_exit)
		return run_sql(st, err, "UPDATE attempts SET outcome = ?3, exit_code = ?4"
			       " WHERE job_id = ?1 AND n = ?2 AND ended_at = 0", "sisi",
			       job_id, (int64_t)n, outcome, (int64_t)exit_code);
	return run_sql(st, err, "UPDATE attempts SET outcome = ?3, exit_code = NULL"
		       " WHERE job_id = ?1 AND n = ?2 AND ended_at = 0", "sis",
		       job_id, (int64_t)n, outcome);
}

int store_attempt_end(struct store *st, const char *job_id, int n, const char *outcome,
		      int has_exit, int exit_code, int64_t ended_at, struct error *err)
{
	if (has_exit)
		return run_sql(st, err, "UPDATE attempts SET outcome = ?3, exit_code = ?4,"
			       " ended_at = ?5 WHERE job_id = ?1 AND n = ?2", "sisii",
			       job_id, (int64_t)n, outcome, (int64_t)exit_code, ended_at);
	return run_sql(st, err, "UPDATE attempts SET outcome = ?3, exit_code = NULL,"
		       " ended_at = ?4 WHERE job_id = ?1 AND n = ?2", "sisi",
		       job_id, (int64_t)n, outcome, ended_at);
}

/* ---- resources ---- */

void resource_release(struct resource *r)
{
	free(r->provider);
	free(r->kind);
	free(r->token);
	free(r->provider_id);
	memset(r, 0, sizeof(*r));
}

void resource_list_release(struct resource_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		resource_release(&l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

int store_resource_begin(struct store *st, const char *job_id, int attempt,
			 const char *provider, const char *kind, const char *token,
			 int64_t *ret_id, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int64_t now = time_now_ms();
	int r;

	if ((r = prepare(st, "INSERT INTO resources (job_id, attempt, provider, kind, token,"
			 " state, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 'creating',"
			 " ?6, ?6) ON CONFLICT(token) DO UPDATE SET updated_at = updated_at"
			 " RETURNING id", &q, err)) < 0)
		return r;
	sqlite3_bind_text(q, 1, job_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 2, attempt);
	bind_text(q, 3, provider);
	bind_text(q, 4, kind);
	bind_text(q, 5, token);
	sqlite3_bind_int64(q, 6, now);
	if (sqlite3_step(q) == SQLITE_ROW) {
		*ret_id = sqlite3_column_int64(q, 0);
		r = 0;
	} else {
		r = db_error(st, err, "cannot record the resource in the ledger");
	}
	sqlite3_finalize(q);
	return r;
}

int store_resource_set(struct store *st, int64_t id, const char *provider_id,
		       enum resource_state state, struct error *err)
{
	return run_sql(st, err, "UPDATE resources SET provider_id = coalesce(?2, provider_id),"
		       " state = ?3, updated_at = ?4 WHERE id = ?1", "issi", id, provider_id, resource_state_name(state), time_now_ms());
}

int store_resource_gone_at(struct store *st, const char *job_id, int attempt,
			   const char *kind, int64_t *at, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int r;

	*at = 0;
	if ((r = prepare(st, "SELECT max(updated_at) FROM resources WHERE job_id = ?1"
			 " AND attempt = ?2 AND kind = ?3 AND state = 'gone'", &q, err)) < 0)
		return r;
	sqlite3_bind_text(q, 1, job_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 2, attempt);
	bind_text(q, 3, kind);
	if (sqlite3_step(q) == SQLITE_ROW)
		*at = sqlite3_column_int64(q, 0);
	else
		r = db_error(st, err, "cannot read the resource ledger");
	sqlite3_finalize(q);
	return r;
}

int store_resource_list_open(struct store *st, const char *job_id,
			     struct resource_list *ret, struct error *err)
{
	struct resource_list l = { 0 };
	sqlite3_stmt *q = NULL;
	int r, rc;

	/* Two statements: "?1 IS NULL OR job_id = ?1" would scan every
	 * row ever recorded instead of the job's (index resources_job). */
	if ((r = prepare(st, job_id ?
			 "SELECT id, job_id, attempt, provider, kind, token, provider_id,"
			 " state, created_at, updated_at FROM resources WHERE job_id = ?1"
			 " AND state != 'gone' ORDER BY id" :
			 "SELECT id, job_id, attempt, provider, kind, token, provider_id,"
			 " state, created_at, updated_at FROM resources WHERE state != 'gone'"
			 " AND ?1 IS NULL ORDER BY id", &q, err)) < 0)
		return r;
	bind_text(q, 1, job_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct resource *res;

		XGROW(l.items, l.n + 1, l.alloc);
		res = &l.items[l.n++];
		memset(res, 0, sizeof(*res));
		res->id = sqlite3_column_int64(q, 0);
		col_id(q, 1, res->job_id);
		res->attempt = sqlite3_column_int(q, 2);
		res->provider = col_str(q, 3);
		res->kind = col_str(q, 4);
		res->token = col_str(q, 5);
		res->provider_id = col_str(q, 6);
		res->state = res_state_from((const char *)sqlite3_column_text(q, 7));
		res->created_at = sqlite3_column_int64(q, 8);
		res->updated_at = sqlite3_column_int64(q, 9);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		resource_list_release(&l);
		return db_error(st, err, "cannot read the resource ledger");
	}
	*ret = l;
	return 0;
}

/* ---- events ---- */

int store_event_add(struct store *st, const char *job_id, const char *kind,
		    const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;
	int r;

	va_start(ap, fmt);
	strbuf_addvf(&msg, fmt, ap);
	va_end(ap);
	r = run_sql(st, NULL, "INSERT INTO events (job_id, at, kind, message)"
		    " VALUES (?1, ?2, ?3, ?4)", "siss", job_id, time_now_ms(), kind, msg.buf);
	strbuf_release(&msg);
	return r;
}

void event_list_release(struct event_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->items[i].kind);
		free(l->items[i].message);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

int store_event_list(struct store *st, const char *job_id, struct event_list *ret,
		     struct error *err)
{
	struct event_list l = { 0 };
	sqlite3_stmt *q = NULL;
	int r, rc;

	if ((r = prepare(st, "SELECT at, kind, message FROM events WHERE job_id = ?1"
			 " ORDER BY id", &q, err)) < 0)
		return r;
	sqlite3_bind_text(q, 1, job_id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		XGROW(l.items, l.n + 1, l.alloc);
		l.items[l.n].at = sqlite3_column_int64(q, 0);
		l.items[l.n].kind = col_str(q, 1);
		l.items[l.n].message = col_str(q, 2);
		l.n++;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		event_list_release(&l);
		return db_error(st, err, "cannot read events");
	}
	*ret = l;
	return 0;
}

/* ---- costs ---- */

void cost_list_release(struct cost_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].label);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

int store_cost_record(struct store *st, const char *job_id, int attempt,
		      const char *backend, int64_t billed_seconds, int64_t usd_micro,
		      struct error *err)
{
	int r;

	if ((r = store_begin(st, err)) < 0)
		return r;
	r = run_sql(st, err, "INSERT OR IGNORE INTO costs (job_id, attempt, backend, seconds,"
		    " usd, recorded_at, billed_seconds, usd_micro)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?4, ?7)", "sisddii",
		    job_id, (int64_t)attempt, backend, (double)billed_seconds,
		    money_to_usd(usd_micro), time_now_ms(), usd_micro);
	if (r == 0 && sqlite3_changes(st->db) == 1)
		r = store_job_add_cost(st, job_id, usd_micro, err);
	if (r < 0) {
		store_rollback(st);
		return r;
	}
	return store_commit(st, err);
}

/* The group key and label of the ledger rows, per grouping. */
static const char *cost_group_sql(const char *by)
{
	if (!strcmp(by, "job"))
		return "c.job_id, j.name";
	if (!strcmp(by, "sweep"))
		return "coalesce(j.sweep_id, '-'), s.name";
	if (!strcmp(by, "backend"))
		return "c.backend, NULL";
	if (!strcmp(by, "day"))
		return "date(c.recorded_at / 1000, 'unixepoch'), NULL";
	if (!strcmp(by, "month"))
		return "strftime('%Y-%m', c.recorded_at / 1000, 'unixepoch'), NULL";
	return NULL;
}

int store_cost_each(struct store *st, const char *by, int64_t since_ms, int64_t until_ms,
		    store_cost_fn *fn, void *ctx, struct error *err)
{
	struct strbuf sql = STRBUF_INIT;
	const char *group = cost_group_sql(by);
	sqlite3_stmt *q = NULL;
	int r, rc;

	if (!group)
		return error_set(err, FRUGAL_EINVAL, "cannot group costs by '%s': use job, sweep,"
				 " backend, day or month", by);
	strbuf_addf(&sql, "SELECT %s, count(*), sum(c.billed_seconds), sum(c.usd_micro)"
		    " FROM costs c JOIN jobs j ON j.id = c.job_id"
		    " LEFT JOIN sweeps s ON s.id = j.sweep_id"
		    " WHERE c.recorded_at >= ?1 AND (?2 = 0 OR c.recorded_at < ?2)"
		    " GROUP BY 1 ORDER BY %s", group,
		    !strcmp(by, "job") ? "min(j.seq)" : "1");
	r = prepare(st, sql.buf, &q, err);
	strbuf_release(&sql);
	if (r < 0)
		return r;
	sqlite3_bind_int64(q, 1, since_ms);
	sqlite3_bind_int64(q, 2, until_ms);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct cost_row c = { 0 };
		int stop;

		c.key = (char *)sqlite3_column_text(q, 0);
		c.label = (char *)sqlite3_column_text(q, 1);
		c.attempts = sqlite3_column_int(q, 2);
		c.billed_seconds = sqlite3_column_int64(q, 3);
		c.micro = sqlite3_column_int64(q, 4);
		if ((stop = fn(&c, ctx)) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_error(st, err, "cannot read costs");
	return 0;
}

/* store_cost_report's row collector. */
static int collect_cost(const struct cost_row *row, void *ctx)
{
	struct cost_list *l = ctx;
	struct cost_row *c;

	XGROW(l->items, l->n + 1, l->alloc);
	c = &l->items[l->n++];
	*c = *row;
	c->key = row->key ? xstrdup(row->key) : NULL;
	c->label = row->label ? xstrdup(row->label) : NULL;
	return 0;
}

int store_cost_report(struct store *st, const char *by, int64_t since_ms, int64_t until_ms,
		      struct cost_list *ret, struct error *err)
{
	struct cost_list l = { 0 };
	int r;

	if ((r = store_cost_each(st, by, since_ms, until_ms, collect_cost, &l, err)) < 0) {
		cost_list_release(&l);
		return r;
	}
	*ret = l;
	return 0;
}

int store_attempt_set_notice(struct store *st, const char *job_id, int n, int64_t deadline,
			     struct error *err)
{
	return run_sql(st, err, "UPDATE attempts SET notice_deadline = ?3 WHERE job_id = ?1"
		       " AND n = ?2", "sii", job_id, (int64_t)n, deadline);
}

/* ---- blocked locations ---- */

int store_block_add(struct store *st, const char *backend, const char *region,
		    const char *zone, int64_t until, const char *reason, struct error *err)
{
	return run_sql(st, err, "INSERT INTO blocked (backend, region, zone, until, reason)"
		       " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET"
		       " until = max(until, excluded.until), reason = excluded.reason",
		       "sssis", backend, region ? region : "", zone ? zone : "", until, reason);
}

int store_block_active(struct store *st, const char *backend, const char *region,
		       const char *zone, int64_t now, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int r;

	if ((r = prepare(st, "SELECT 1 FROM blocked WHERE backend = ?1 AND until > ?4 AND"
			 " (region = '' OR region = ?2) AND (zone = '' OR zone = ?3)", &q, err)) < 0)
		return r;
	bind_text(q, 1, backend);
	bind_text(q, 2, region ? region : "");
	bind_text(q, 3, zone ? zone : "");
	sqlite3_bind_int64(q, 4, now);
	r = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return r;
}

void block_list_add(struct block_list *l, const char *backend, const char *region,
		    const char *zone, int64_t until, const char *reason)
{
	struct block *b;

	XGROW(l->items, l->n + 1, l->alloc);
	b = &l->items[l->n++];
	b->backend = xstrdup(backend ? backend : "");
	b->region = xstrdup(region ? region : "");
	b->zone = xstrdup(zone ? zone : "");
	b->until = until;
	b->reason = reason ? xstrdup(reason) : NULL;
}

void block_list_release(struct block_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->items[i].backend);
		free(l->items[i].region);
		free(l->items[i].zone);
		free(l->items[i].reason);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

int block_list_covers(const struct block_list *l, const char *backend, const char *region,
		      const char *zone)
{
	const char *z = zone && *zone ? zone : ZONE_NONE;
	size_t i;

	for (i = 0; l && i < l->n; i++) {
		const struct block *b = &l->items[i];

		if (!strcmp(b->backend, backend) &&
		    (!*b->region || (region && !strcmp(b->region, region))) &&
		    (!*b->zone || !strcmp(b->zone, z)))
			return 1;
	}
	return 0;
}

int store_block_list_active(struct store *st, const char *backend, int64_t now,
			    struct block_list *ret, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int r, rc;

	if ((r = prepare(st, "SELECT region, zone, until, reason FROM blocked WHERE"
			 " backend = ?1 AND until > ?2", &q, err)) < 0)
		return r;
	bind_text(q, 1, backend);
	sqlite3_bind_int64(q, 2, now);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		block_list_add(ret, backend, (const char *)sqlite3_column_text(q, 0),
			       (const char *)sqlite3_column_text(q, 1), sqlite3_column_int64(q, 2),
			       (const char *)sqlite3_column_text(q, 3));
	r = rc == SQLITE_DONE ? 0 : db_error(st, err, "cannot read blocked locations");
	sqlite3_finalize(q);
	return r;
}
