/* The hub's PostgreSQL store. Events are unique on (office, seq), so an
 * event the broker delivers twice (QoS 1 is "at least once", MQTT 3.1.1
 * section 4.3.2) or an office resends after a restart is stored once. */
#include "hub_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_log.h"

/* Numbered migrations: entry i brings the schema from version i to i+1.
 * Only ever append; never edit an entry that has shipped. */
static const char *const migrations[] = {
    /* 0 -> 1: offices, events, staff users and sessions */
    "CREATE TABLE offices("
    " office text PRIMARY KEY, last_seq bigint NOT NULL,"
    " events bigint NOT NULL DEFAULT 0,"
    " out_of_order bigint NOT NULL DEFAULT 0,"
    " first_seen timestamptz NOT NULL DEFAULT now(),"
    " last_seen timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE events("
    " id bigserial PRIMARY KEY, office text NOT NULL, seq bigint NOT NULL,"
    " at timestamptz NOT NULL, kind text NOT NULL,"
    " channel text NOT NULL DEFAULT '', category text NOT NULL DEFAULT '',"
    " ticket text NOT NULL DEFAULT '', due timestamptz,"
    " value bigint NOT NULL DEFAULT 0, detail text,"
    " received_at timestamptz NOT NULL DEFAULT now(),"
    " UNIQUE (office, seq));"
    "CREATE INDEX events_kind ON events(office, kind, ticket);"
    "CREATE TABLE users("
    " id serial PRIMARY KEY, name text NOT NULL UNIQUE, hash text NOT NULL,"
    " disabled boolean NOT NULL DEFAULT false,"
    " created_at timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE sessions("
    " token_hash text PRIMARY KEY,"
    " user_id integer NOT NULL REFERENCES users(id),"
    " expires_at timestamptz NOT NULL);",
};

static bool ok(PGresult *r)
{
	ExecStatusType s = PQresultStatus(r);

	return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

static bool exec_ok(PGconn *db, const char *sql)
{
	PGresult *r = PQexec(db, sql);
	bool good = ok(r);

	if (!good)
		hub_log("database: %s", PQerrorMessage(db));
	PQclear(r);
	return good;
}

static int schema_version(PGconn *db)
{
	PGresult *r = PQexec(db, "SELECT version FROM hub_schema");
	int v = ok(r) && PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : -1;

	PQclear(r);
	return v;
}

/* Several hubs may start at once: an advisory lock serialises them. */
static int migrate(PGconn *db)
{
	int n = (int)(sizeof migrations / sizeof migrations[0]);
	int v;

	if (!exec_ok(db, "SELECT pg_advisory_lock(2020)") ||
	    !exec_ok(db, "CREATE TABLE IF NOT EXISTS hub_schema(version"
			 " integer NOT NULL); INSERT INTO hub_schema SELECT 0"
			 " WHERE NOT EXISTS (SELECT 1 FROM hub_schema)"))
		return -1;
	for (v = schema_version(db); v >= 0 && v < n; v++) {
		char bump[64];

		snprintf(bump, sizeof bump,
			 "UPDATE hub_schema SET version = %d", v + 1);
		if (!exec_ok(db, "BEGIN") || !exec_ok(db, migrations[v]) ||
		    !exec_ok(db, bump) || !exec_ok(db, "COMMIT")) {
			exec_ok(db, "ROLLBACK");
			break;
		}
		hub_log("database: schema now at version %d", v + 1);
	}
	exec_ok(db, "SELECT pg_advisory_unlock(2020)");
	return v == n ? 0 : -1;
}

/* The insert: new events also move the office's watermark, and an event
 * that does not follow the last one is counted as out of order. */
static const char insert_sql[] =
    "WITH ins AS (INSERT INTO events(office, seq, at, kind, channel,"
    " category, ticket, due, value, detail) VALUES ($1, $2,"
    " to_timestamp($3::bigint / 1000.0), $4, $5, $6, $7,"
    " CASE WHEN $8::bigint = 0 THEN NULL"
    " ELSE to_timestamp($8::bigint / 1000.0) END, $9, $10)"
    " ON CONFLICT (office, seq) DO NOTHING RETURNING office, seq)"
    " INSERT INTO offices(office, last_seq, events, out_of_order)"
    " SELECT office, seq, 1, (seq <> 1)::int FROM ins"
    " ON CONFLICT (office) DO UPDATE SET"
    " last_seq = greatest(offices.last_seq, excluded.last_seq),"
    " events = offices.events + 1, last_seen = now(),"
    " out_of_order = offices.out_of_order +"
    " (excluded.last_seq <> offices.last_seq + 1)::int";

static int prepare_insert(PGconn *db)
{
	PGresult *r = PQprepare(db, "ins", insert_sql, 10, NULL);
	bool good = ok(r);

	if (!good)
		hub_log("database: %s", PQerrorMessage(db));
	PQclear(r);
	return good ? 0 : -1;
}

int hub_db_reset(PGconn *db)
{
	PQreset(db);
	return PQstatus(db) == CONNECTION_OK ? prepare_insert(db) : -1;
}

PGconn *hub_db_open(const char *conninfo)
{
	PGconn *db = PQconnectdb(conninfo);

	if (PQstatus(db) != CONNECTION_OK) {
		hub_log("database: %s", PQerrorMessage(db));
		PQfinish(db);
		return NULL;
	}
	if (migrate(db) != 0 || prepare_insert(db) != 0) {
		PQfinish(db);
		return NULL;
	}
	return db;
}

static int insert_one(PGconn *db, const struct hub_event *e)
{
	char seq[24], at[24], due[24], value[24];
	const char *v[10] = {e->office,	  seq,	     at,  e->kind, e->channel,
			     e->category, e->ticket, due, value,   e->detail};
	PGresult *r;
	int n;

	snprintf(seq, sizeof seq, "%lld", (long long)e->seq);
	snprintf(at, sizeof at, "%lld", (long long)e->at_ms);
	snprintf(due, sizeof due, "%lld", (long long)e->due_ms);
	snprintf(value, sizeof value, "%lld", (long long)e->value);
	r = PQexecPrepared(db, "ins", 10, v, NULL, NULL, 0);
	n = ok(r) ? atoi(PQcmdTuples(r)) : -1;
	if (n < 0)
		hub_log("database: %s", PQerrorMessage(db));
	PQclear(r);
	return n;
}

int hub_db_insert(PGconn *db, const struct hub_event *evs, int n)
{
	int added = 0;

	if (!exec_ok(db, "BEGIN"))
		return -1;
	for (int i = 0; i < n; i++) {
		int k = insert_one(db, &evs[i]);

		if (k < 0) {
			exec_ok(db, "ROLLBACK");
			return -1;
		}
		added += k;
	}
	return exec_ok(db, "COMMIT") ? added : -1;
}

/* The dashboard's numbers, straight from the events: a ticket is open
 * while no ticket_close with its number follows; closed in time when the
 * close came no later than its due date. */
static const char stats_sql[] =
    "SELECT f.office, f.events, f.last_seq,"
    " coalesce(e.msg_in, 0), coalesce(e.msg_out, 0),"
    " coalesce(t.open, 0), coalesce(t.overdue, 0), coalesce(e.closed, 0),"
    " coalesce(e.closed_ok, 0), coalesce(e.rt_req, 0),"
    " coalesce(e.rt_ans, 0), coalesce(e.rt_avg, 0), coalesce(e.breaches, 0)"
    " FROM offices f LEFT JOIN (SELECT office,"
    "  count(*) FILTER (WHERE kind = 'msg_in') AS msg_in,"
    "  count(*) FILTER (WHERE kind = 'msg_out') AS msg_out,"
    "  count(*) FILTER (WHERE kind = 'ticket_close') AS closed,"
    "  count(*) FILTER (WHERE kind = 'ticket_close' AND (due IS NULL"
    "   OR at <= due)) AS closed_ok,"
    "  count(*) FILTER (WHERE kind = 'rt_request') AS rt_req,"
    "  count(*) FILTER (WHERE kind = 'rt_answer') AS rt_ans,"
    "  round(avg(value) FILTER (WHERE kind = 'rt_answer'))::bigint"
    "   AS rt_avg,"
    "  count(*) FILTER (WHERE kind = 'sla_breach') AS breaches"
    "  FROM events GROUP BY office) e ON e.office = f.office"
    " LEFT JOIN (SELECT o.office, count(*) AS open,"
    "  count(*) FILTER (WHERE o.due < now()) AS overdue"
    "  FROM events o WHERE o.kind = 'ticket_open' AND NOT EXISTS"
    "  (SELECT 1 FROM events c WHERE c.office = o.office"
    "   AND c.kind = 'ticket_close' AND c.ticket = o.ticket)"
    "  GROUP BY o.office) t ON t.office = f.office"
    " ORDER BY f.office LIMIT $1";

int hub_db_stats(PGconn *db, struct hub_stats *out, int max)
{
	char lim[16];
	const char *v[1] = {lim};
	PGresult *r;
	int n;

	snprintf(lim, sizeof lim, "%d", max);
	r = PQexecParams(db, stats_sql, 1, NULL, v, NULL, NULL, 0);
	if (!ok(r)) {
		hub_log("database: %s", PQerrorMessage(db));
		PQclear(r);
		return -1;
	}
	n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		struct hub_stats *s = &out[i];
		int64_t *f[] = {&s->events,  &s->last_seq,  &s->msg_in,
				&s->msg_out, &s->open,	    &s->overdue,
				&s->closed,  &s->closed_ok, &s->rt_req,
				&s->rt_ans,  &s->rt_avg_s,  &s->breaches};

		snprintf(s->office, sizeof s->office, "%s",
			 PQgetvalue(r, i, 0));
		for (int c = 0; c < 12; c++)
			*f[c] = atoll(PQgetvalue(r, i, c + 1));
	}
	PQclear(r);
	return n;
}

/* Runs one statement with text parameters; returns the result or NULL. */
static PGresult *run(PGconn *db, const char *sql, int n, const char **v)
{
	PGresult *r = PQexecParams(db, sql, n, NULL, v, NULL, NULL, 0);

	if (ok(r))
		return r;
	hub_log("database: %s", PQerrorMessage(db));
	PQclear(r);
	return NULL;
}

static int run_cmd(PGconn *db, const char *sql, int n, const char **v)
{
	PGresult *r = run(db, sql, n, v);

	PQclear(r);
	return r ? 0 : -1;
}

int hub_db_add_user(PGconn *db, const char *name, const char *hash)
{
	const char *v[2] = {name, hash};

	return run_cmd(db,
		       "INSERT INTO users(name, hash) VALUES ($1, $2)"
		       " ON CONFLICT (name) DO UPDATE SET hash = excluded.hash,"
		       " disabled = false",
		       2, v);
}

static int copy_first(PGresult *r, char *out, size_t n)
{
	int found = r && PQntuples(r) == 1;

	if (found)
		snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return found ? 0 : -1;
}

int hub_db_user_hash(PGconn *db, const char *name, char *hash, size_t n)
{
	const char *v[1] = {name};

	return copy_first(run(db,
			      "SELECT hash FROM users WHERE name = $1"
			      " AND NOT disabled",
			      1, v),
			  hash, n);
}

int hub_db_session_new(PGconn *db, const char *token_hash, const char *name,
		       int ttl_s)
{
	char ttl[16];
	const char *v[3] = {token_hash, name, ttl};

	snprintf(ttl, sizeof ttl, "%d", ttl_s);
	run_cmd(db, "DELETE FROM sessions WHERE expires_at < now()", 0, NULL);
	return run_cmd(db,
		       "INSERT INTO sessions(token_hash, user_id, expires_at)"
		       " SELECT $1, id, now() + make_interval(secs => $3)"
		       " FROM users WHERE name = $2",
		       3, v);
}

int hub_db_session_get(PGconn *db, const char *token_hash, char *name, size_t n)
{
	const char *v[1] = {token_hash};

	return copy_first(run(db,
			      "SELECT u.name FROM sessions s JOIN users u ON"
			      " u.id = s.user_id WHERE s.token_hash = $1 AND"
			      " s.expires_at > now() AND NOT u.disabled",
			      1, v),
			  name, n);
}

int hub_db_session_end(PGconn *db, const char *token_hash)
{
	const char *v[1] = {token_hash};

	return run_cmd(db, "DELETE FROM sessions WHERE token_hash = $1", 1, v);
}
