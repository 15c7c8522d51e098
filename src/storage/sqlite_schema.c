/* sqlite_schema: the SQLite backend's schema and its migrations, and
 * opening, migrating and closing the database (the operations are in
 * sqlite.c; shared: sqlite_internal.h).
 *
 * The schema is versioned with PRAGMA user_version and brought up to date
 * at open by the migrations below, all in one transaction.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sqlite_internal.h"

#define BUSY_TIMEOUT_MS 5000

/* Migration N (1-based) takes the schema from version N-1 to N. Append
 * only: a released migration is never edited. */
static const char *const migrations[] = {
    /* 1: users, their settings, their legacy contacts, the outbox. */
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  jid TEXT UNIQUE NOT NULL,"
    "  password BLOB," /* sealed; NULL for none */
    "  created INTEGER NOT NULL"
    ");"
    "CREATE TABLE user_settings ("
    "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (user_id, key)"
    ");"
    "CREATE TABLE contacts ("
    "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    "  legacy_name TEXT NOT NULL," /* BINARY collation: case-sensitive */
    "  flags INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (user_id, legacy_name)"
    ");"
    /* AUTOINCREMENT: an id is never reused, so a stale delete cannot hit
	 * a newer message. */
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    "  legacy_name TEXT NOT NULL,"
    "  text BLOB NOT NULL," /* sealed */
    "  stanza_id TEXT,"
    "  sender TEXT NOT NULL,"
    "  created INTEGER NOT NULL"
    ");"
    "CREATE INDEX outbox_by_user ON outbox (user_id, id);",
    /* 2: facts about the database itself: the key check value (storage.c),
	 * which says which key the sealed values belong to. */
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value BLOB NOT NULL"
    ");",
    /* 3: the contact JIDs of legacy names that do not keep their plain
	 * XEP-0106 form (gateway/address.c): the localpart, as the server
	 * folds it, and the exact name it stands for, for every user. */
    "CREATE TABLE contact_addresses ("
    "  localpart TEXT PRIMARY KEY,"
    "  legacy_name BLOB NOT NULL" /* exact bytes: not always UTF-8 */
    ");",
};

#define SCHEMA_VERSION ((int)G_N_ELEMENTS(migrations))

/* ---- opening, migrating, closing ---------------------------------------- */

int sqlite_backend_schema_version(struct storage_backend *backend)
{
	return from_base(backend)->schema_version;
}

void sqlite_backend_free(struct storage_backend *backend)
{
	struct sqlite_backend *b = from_base(backend);
	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(b->stmts[i]);
	if (sqlite3_close(b->db) != SQLITE_OK)
		g_warning("%s: cannot close the database: %s", b->path, sqlite3_errmsg(b->db));
	g_free(b->path);
	g_free(b);
}

/* Creates PATH with mode 0600 if it does not exist, so that SQLite (which
 * gives the -wal and -shm files the database's mode) never creates it with
 * the umask's. An existing file keeps its mode; a too open one is logged. */
static bool create_file(const char *path, GError **error)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		int rc = fchmod(fd, 0600); /* exact, whatever the umask */
		int err = errno;
		close(fd);
		if (rc != 0) {
			g_set_error(error, STORAGE_ERROR, STORAGE_ERROR_OPEN,
			            "%s: cannot set the database's mode: %s", path,
			            g_strerror(err));
			return false;
		}
		return true;
	}
	int err = errno;
	if (err != EEXIST) {
		g_set_error(error, STORAGE_ERROR, STORAGE_ERROR_OPEN,
		            "%s: cannot create the database: %s", path, g_strerror(err));
		return false;
	}
	struct stat st;
	if (stat(path, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		g_warning("%s: the database may be read by group or others (mode %04o); run: "
		          "chmod 600 %s",
		          path, (unsigned)(st.st_mode & 07777), path);
	return true;
}

/* Runs SQL that returns at most one row and gives its first column as an
 * integer (0 if no row). */
static bool query_int(struct sqlite_backend *b, const char *sql, int *value, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	*value = 0;
	int rc = sqlite3_prepare_v2(b->db, sql, -1, &stmt, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW)
			*value = sqlite3_column_int(stmt, 0);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		g_set_error(error, STORAGE_ERROR, STORAGE_ERROR_OPEN, "%s: %s: %s", b->path, sql,
		            sqlite3_errmsg(b->db));
		sqlite3_finalize(stmt);
		return false;
	}
	sqlite3_finalize(stmt);
	return true;
}

static bool exec(struct sqlite_backend *b, const char *sql, const char *what, GError **error)
{
	if (sqlite3_exec(b->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return true;
	set_db_error(b, error, STORAGE_ERROR_OPEN, what);
	return false;
}

/* The backend for the database at PATH opened with FLAGS (SQLite's), with
 * extended result codes and the busy timeout; nothing else set. */
static struct sqlite_backend *open_db(const char *path, int flags, GError **error)
{
	struct sqlite_backend *b = g_new0(struct sqlite_backend, 1);
	b->base = sqlite_backend_operations;
	b->path = g_strdup(path);
	if (sqlite3_open_v2(path, &b->db, flags, NULL) != SQLITE_OK) {
		if (b->db != NULL)
			set_db_error(b, error, STORAGE_ERROR_OPEN, "open the database");
		else
			g_set_error(error, STORAGE_ERROR, STORAGE_ERROR_OPEN,
			            "%s: cannot open the database: out of memory", path);
		sqlite_backend_free(&b->base);
		return NULL;
	}
	sqlite3_extended_result_codes(b->db, 1);
	sqlite3_busy_timeout(b->db, BUSY_TIMEOUT_MS);
	return b;
}

/* Sets the connection up: WAL, foreign keys (the cascades depend on them);
 * open_db() set the busy timeout for the moments another process holds
 * the lock. */
static bool configure(struct sqlite_backend *b, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	bool wal = false;
	if (sqlite3_prepare_v2(b->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW)
		wal = g_ascii_strcasecmp((const char *)sqlite3_column_text(stmt, 0), "wal") == 0;
	if (!wal)
		set_db_error(b, error, STORAGE_ERROR_OPEN, "switch to WAL journal mode");
	sqlite3_finalize(stmt);
	if (!wal)
		return false;

	/* In WAL mode NORMAL syncs at checkpoints, not at every commit: a
	 * queued message or a contact change costs no fsync on the main loop,
	 * and the database stays consistent after a crash (only the last
	 * commits before a power loss can be lost). */
	int fk = 0;
	if (!exec(b, "PRAGMA synchronous = NORMAL", "set synchronous = NORMAL", error) ||
	    !exec(b, "PRAGMA foreign_keys = ON", "turn foreign keys on", error) ||
	    !query_int(b, "PRAGMA foreign_keys", &fk, error))
		return false;
	if (fk != 1) {
		g_set_error(error, STORAGE_ERROR, STORAGE_ERROR_OPEN,
		            "%s: this SQLite library does not enforce foreign keys", b->path);
		return false;
	}
	return true;
}

/* Brings the schema to SCHEMA_VERSION in one transaction, so a failure
 * leaves the database as it was. The version is read inside the
 * transaction: two processes opening a new database cannot both migrate. */
static bool migrate(struct sqlite_backend *b, GError **error)
{
	if (!exec(b, "BEGIN IMMEDIATE", "begin the migration", error))
		return false;

	int version;
	bool ok = query_int(b, "PRAGMA user_version", &version, error);
	if (ok && version > SCHEMA_VERSION) {
		g_set_error(error, STORAGE_ERROR, STORAGE_ERROR_VERSION,
		            "%s: the database schema is version %d, newer than this ferry knows "
		            "(%d); run a newer ferry, or restore a backup of this one's database",
		            b->path, version, SCHEMA_VERSION);
		ok = false;
	} else if (ok && version < 0) {
		g_set_error(error, STORAGE_ERROR, STORAGE_ERROR_OPEN,
		            "%s: the database schema version %d is not ferry's", b->path, version);
		ok = false;
	}
	for (int v = version; ok && v < SCHEMA_VERSION; v++) {
		g_autofree char *what = g_strdup_printf("migrate the schema to version %d", v + 1);
		ok = exec(b, migrations[v], what, error);
	}
	if (ok && version < SCHEMA_VERSION) {
		g_autofree char *sql = g_strdup_printf("PRAGMA user_version = %d", SCHEMA_VERSION);
		ok = exec(b, sql, "record the schema version", error);
	}
	if (ok)
		ok = exec(b, "COMMIT", "commit the migration", error);
	if (!ok && sqlite3_get_autocommit(b->db) == 0)
		sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
	if (ok)
		b->schema_version = SCHEMA_VERSION;
	return ok;
}

static bool prepare_all(struct sqlite_backend *b, GError **error)
{
	for (int i = 0; i < STMT_COUNT; i++) {
		if (sqlite3_prepare_v3(b->db, sqlite_backend_stmt_sql[i], -1,
		                       SQLITE_PREPARE_PERSISTENT, &b->stmts[i],
		                       NULL) != SQLITE_OK) {
			set_db_error(b, error, STORAGE_ERROR_OPEN, "prepare a statement");
			return false;
		}
	}
	return true;
}

struct storage_backend *storage_backend_sqlite_open(const char *path, GError **error)
{
	g_return_val_if_fail(path != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!create_file(path, error))
		return NULL;

	/* No SQLITE_OPEN_CREATE: create_file() made it, with the right mode. */
	struct sqlite_backend *b = open_db(path, SQLITE_OPEN_READWRITE, error);
	if (b == NULL)
		return NULL;
	if (!configure(b, error) || !migrate(b, error) || !prepare_all(b, error)) {
		sqlite_backend_free(&b->base);
		return NULL;
	}
	return &b->base;
}

struct storage_backend *storage_backend_sqlite_open_readonly(const char *path, GError **error)
{
	g_return_val_if_fail(path != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	struct sqlite_backend *b = open_db(path, SQLITE_OPEN_READONLY, error);
	if (b == NULL)
		return NULL;
	int version = 0;
	if (!query_int(b, "PRAGMA user_version", &version, error)) {
		sqlite_backend_free(&b->base);
		return NULL;
	}
	if (version != SCHEMA_VERSION) {
		/* Older: the start migrates it first; newer: the start refuses it. */
		g_set_error(error, STORAGE_ERROR, STORAGE_ERROR_VERSION,
		            "%s: the database schema is version %d, not %d: a start would %s it",
		            path, version, SCHEMA_VERSION,
		            version < SCHEMA_VERSION ? "migrate" : "refuse");
		sqlite_backend_free(&b->base);
		return NULL;
	}
	b->schema_version = version;
	if (!prepare_all(b, error)) {
		sqlite_backend_free(&b->base);
		return NULL;
	}
	return &b->base;
}
