/* sqlite_internal (internal to src/storage/): what the two files of the
 * SQLite backend share. Nothing outside them includes this.
 *
 * sqlite.c         the statements and the operations of backend.h over them
 * sqlite_schema.c  the schema and its migrations; opening (the file's mode,
 *                  WAL, foreign keys), migrating and closing the database
 */
#ifndef FERRY_STORAGE_SQLITE_INTERNAL_H
#define FERRY_STORAGE_SQLITE_INTERNAL_H

#include <glib.h>

#include <sqlite3.h>

#include "backend.h"

enum stmt_id {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_USER_UPSERT,
	STMT_USER_ID,
	STMT_SETTINGS_CLEAR,
	STMT_SETTING_INSERT,
	STMT_USER_GET,
	STMT_USER_DELETE,
	STMT_USER_LIST,
	STMT_CONTACT_PUT,
	STMT_CONTACT_DELETE,
	STMT_CONTACT_LIST,
	STMT_OUTBOX_ADD,
	STMT_OUTBOX_DELETE,
	STMT_OUTBOX_LIST,
	STMT_OUTBOX_COUNT,
	STMT_META_GET,
	STMT_META_PUT,
	STMT_SEALED_LIST,
	STMT_ADDRESS_GET,
	STMT_ADDRESS_PUT,
	STMT_COUNT
};

struct sqlite_backend {
	struct storage_backend base;     /* first, so the operations can cast back */
	sqlite3 *db;                     /* the one connection */
	char *path;                      /* for error messages */
	int schema_version;              /* after migration */
	sqlite3_stmt *stmts[STMT_COUNT]; /* prepared at open, finalized at free */
};

static inline struct sqlite_backend *from_base(struct storage_backend *backend)
{
	return (struct sqlite_backend *)backend;
}

/* Sets ERROR to "PATH: cannot WHAT: <SQLite's message>". */
static inline void set_db_error(struct sqlite_backend *b, GError **error, int code,
                                const char *what)
{
	g_set_error(error, STORAGE_ERROR, code, "%s: cannot %s: %s", b->path, what,
	            sqlite3_errmsg(b->db));
}

/* The SQL of each statement (sqlite.c), prepared at open (sqlite_schema.c). */
extern const char *const sqlite_backend_stmt_sql[STMT_COUNT];

/* The operations (sqlite.c), which every backend opened starts with. */
extern const struct storage_backend sqlite_backend_operations;

/* The operations of opening and closing (sqlite_schema.c). */
int sqlite_backend_schema_version(struct storage_backend *backend);
void sqlite_backend_free(struct storage_backend *backend);

#endif
