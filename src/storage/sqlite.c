/* sqlite: the default storage backend, one SQLite file in WAL mode.
 *
 * This file holds the statements and the operations over them; the schema,
 * its migrations, opening and closing are in sqlite_schema.c (shared:
 * sqlite_internal.h). Statements are prepared once at open and kept for
 * the connection's life. Secrets arrive here already sealed (backend.h);
 * this file never sees plaintext.
 */
#include "config.h"

#include <string.h>

#include <sqlite3.h>

#include "sqlite_internal.h"

const char *const sqlite_backend_stmt_sql[STMT_COUNT] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_USER_UPSERT] = "INSERT INTO users (jid, password, created) VALUES (?1, ?2, ?3) "
                         "ON CONFLICT (jid) DO UPDATE SET password = excluded.password",
    [STMT_USER_ID] = "SELECT id FROM users WHERE jid = ?1",
    [STMT_SETTINGS_CLEAR] = "DELETE FROM user_settings WHERE user_id = ?1",
    [STMT_SETTING_INSERT] = "INSERT INTO user_settings (user_id, key, value) "
                            "VALUES (?1, ?2, ?3)",
    [STMT_USER_GET] = "SELECT u.password, s.key, s.value FROM users AS u "
                      "LEFT JOIN user_settings AS s ON s.user_id = u.id WHERE u.jid = ?1",
    [STMT_USER_DELETE] = "DELETE FROM users WHERE jid = ?1",
    [STMT_USER_LIST] = "SELECT jid FROM users ORDER BY jid",
    [STMT_CONTACT_PUT] = "INSERT INTO contacts (user_id, legacy_name, flags) "
                         "SELECT id, ?2, ?3 FROM users WHERE jid = ?1 "
                         "ON CONFLICT (user_id, legacy_name) DO UPDATE SET flags = excluded.flags",
    [STMT_CONTACT_DELETE] = "DELETE FROM contacts WHERE legacy_name = ?2 "
                            "AND user_id = (SELECT id FROM users WHERE jid = ?1)",
    [STMT_CONTACT_LIST] = "SELECT c.legacy_name, c.flags FROM contacts AS c "
                          "JOIN users AS u ON u.id = c.user_id WHERE u.jid = ?1 "
                          "ORDER BY c.legacy_name",
    [STMT_OUTBOX_ADD] = "INSERT INTO outbox (user_id, legacy_name, text, stanza_id, sender, "
                        "created) SELECT id, ?2, ?3, ?4, ?5, ?6 FROM users WHERE jid = ?1",
    [STMT_OUTBOX_DELETE] = "DELETE FROM outbox WHERE id = ?1",
    [STMT_OUTBOX_LIST] = "SELECT o.id, o.legacy_name, o.text, o.stanza_id, o.sender, "
                         "o.created FROM outbox AS o JOIN users AS u ON u.id = o.user_id "
                         "WHERE u.jid = ?1 ORDER BY o.id",
    [STMT_OUTBOX_COUNT] = "SELECT count(*) FROM outbox AS o JOIN users AS u "
                          "ON u.id = o.user_id WHERE u.jid = ?1",
    [STMT_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [STMT_META_PUT] = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [STMT_SEALED_LIST] = "SELECT jid, 0, password FROM users WHERE password IS NOT NULL "
                         "UNION ALL SELECT u.jid, 1, o.text FROM outbox AS o "
                         "JOIN users AS u ON u.id = o.user_id",
    [STMT_ADDRESS_GET] = "SELECT legacy_name FROM contact_addresses WHERE localpart = ?1",
    [STMT_ADDRESS_PUT] = "INSERT INTO contact_addresses (localpart, legacy_name) VALUES (?1, ?2)",
};

/* ---- helpers ------------------------------------------------------------ */

/* Resets a cached statement for its next use, releasing its read lock. */
static void stmt_done(sqlite3_stmt *stmt)
{
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

/* The binds below copy nothing (SQLITE_STATIC): every statement is stepped
 * and reset before the bound values go away. A NULL string or GBytes binds
 * SQL NULL. Each returns false on failure, leaving the message in the
 * connection. */
static bool bind_text(sqlite3_stmt *stmt, int i, const char *text)
{
	if (text == NULL)
		return sqlite3_bind_null(stmt, i) == SQLITE_OK;
	return sqlite3_bind_text(stmt, i, text, -1, SQLITE_STATIC) == SQLITE_OK;
}

static bool bind_bytes(sqlite3_stmt *stmt, int i, GBytes *bytes)
{
	if (bytes == NULL)
		return sqlite3_bind_null(stmt, i) == SQLITE_OK;
	gsize len;
	const void *data = g_bytes_get_data(bytes, &len);
	return sqlite3_bind_blob64(stmt, i, data, len, SQLITE_STATIC) == SQLITE_OK;
}

static bool bind_int(sqlite3_stmt *stmt, int i, gint64 value)
{
	return sqlite3_bind_int64(stmt, i, value) == SQLITE_OK;
}

static char *column_strdup(sqlite3_stmt *stmt, int i)
{
	return g_strdup((const char *)sqlite3_column_text(stmt, i));
}

static GBytes *column_bytes(sqlite3_stmt *stmt, int i)
{
	if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
		return NULL;
	const void *data = sqlite3_column_blob(stmt, i);
	int len = sqlite3_column_bytes(stmt, i);
	return g_bytes_new(data, (gsize)len);
}

/* Steps a statement that returns no rows, then resets it. */
static bool step_done(struct sqlite_backend *b, sqlite3_stmt *stmt, const char *what,
                      GError **error)
{
	bool ok = sqlite3_step(stmt) == SQLITE_DONE;
	if (!ok)
		set_db_error(b, error, STORAGE_ERROR_IO, what);
	stmt_done(stmt);
	return ok;
}

static bool run(struct sqlite_backend *b, enum stmt_id id, const char *what, GError **error)
{
	return step_done(b, b->stmts[id], what, error);
}

/* Ends a transaction: commits if OK, else (or if the commit fails) rolls
 * back. Returns whether the work is committed. */
static bool finish(struct sqlite_backend *b, bool ok, GError **error)
{
	if (ok && run(b, STMT_COMMIT, "commit", error))
		return true;
	if (sqlite3_get_autocommit(b->db) == 0)
		run(b, STMT_ROLLBACK, "roll back", NULL);
	return false;
}

/* ---- users -------------------------------------------------------------- */

static bool put_settings(struct sqlite_backend *b, gint64 user_id, GHashTable *settings,
                         GError **error)
{
	sqlite3_stmt *clear = b->stmts[STMT_SETTINGS_CLEAR];
	if (!bind_int(clear, 1, user_id)) {
		set_db_error(b, error, STORAGE_ERROR_IO, "clear the settings");
		stmt_done(clear);
		return false;
	}
	if (!step_done(b, clear, "clear the settings", error))
		return false;
	if (settings == NULL)
		return true;

	sqlite3_stmt *insert = b->stmts[STMT_SETTING_INSERT];
	GHashTableIter iter;
	gpointer key, value;
	g_hash_table_iter_init(&iter, settings);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		if (!bind_int(insert, 1, user_id) || !bind_text(insert, 2, key) ||
		    !bind_text(insert, 3, value != NULL ? value : "")) {
			set_db_error(b, error, STORAGE_ERROR_IO, "store a setting");
			stmt_done(insert);
			return false;
		}
		if (!step_done(b, insert, "store a setting", error))
			return false;
	}
	return true;
}

static bool user_put(struct storage_backend *backend, const char *jid, GHashTable *settings,
                     GBytes *password, GError **error)
{
	struct sqlite_backend *b = from_base(backend);
	if (!run(b, STMT_BEGIN, "begin a transaction", error))
		return false;

	bool ok = false;
	sqlite3_stmt *upsert = b->stmts[STMT_USER_UPSERT];
	if (bind_text(upsert, 1, jid) && bind_bytes(upsert, 2, password) &&
	    bind_int(upsert, 3, g_get_real_time() / G_USEC_PER_SEC)) {
		ok = step_done(b, upsert, "store the user", error);
	} else {
		set_db_error(b, error, STORAGE_ERROR_IO, "store the user");
		stmt_done(upsert);
	}

	gint64 user_id = 0;
	if (ok) {
		sqlite3_stmt *get_id = b->stmts[STMT_USER_ID];
		ok = bind_text(get_id, 1, jid) && sqlite3_step(get_id) == SQLITE_ROW;
		if (ok)
			user_id = sqlite3_column_int64(get_id, 0);
		else
			set_db_error(b, error, STORAGE_ERROR_IO, "find the stored user");
		stmt_done(get_id);
	}
	if (ok)
		ok = put_settings(b, user_id, settings, error);
	return finish(b, ok, error);
}

static bool user_get(struct storage_backend *backend, const char *jid, bool *found,
                     GHashTable **settings, GBytes **password, GError **error)
{
	struct sqlite_backend *b = from_base(backend);
	sqlite3_stmt *stmt = b->stmts[STMT_USER_GET];
	*found = false;
	*settings = NULL;
	*password = NULL;

	if (!bind_text(stmt, 1, jid)) {
		set_db_error(b, error, STORAGE_ERROR_IO, "read the user");
		stmt_done(stmt);
		return false;
	}
	GHashTable *table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GBytes *sealed = NULL;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (!*found) {
			*found = true;
			sealed = column_bytes(stmt, 0);
		}
		if (sqlite3_column_type(stmt, 1) != SQLITE_NULL)
			g_hash_table_insert(table, column_strdup(stmt, 1), column_strdup(stmt, 2));
	}
	if (rc != SQLITE_DONE) {
		set_db_error(b, error, STORAGE_ERROR_IO, "read the user");
		stmt_done(stmt);
		g_hash_table_unref(table);
		if (sealed != NULL)
			g_bytes_unref(sealed);
		*found = false;
		return false;
	}
	stmt_done(stmt);
	if (*found) {
		*settings = table;
		*password = sealed;
	} else {
		g_hash_table_unref(table);
	}
	return true;
}

static bool user_delete(struct storage_backend *backend, const char *jid, GError **error)
{
	struct sqlite_backend *b = from_base(backend);
	sqlite3_stmt *stmt = b->stmts[STMT_USER_DELETE];
	if (!bind_text(stmt, 1, jid)) {
		set_db_error(b, error, STORAGE_ERROR_IO, "delete the user");
		stmt_done(stmt);
		return false;
	}
	/* The settings, contacts and outbox go by ON DELETE CASCADE. */
	return step_done(b, stmt, "delete the user", error);
}

static GPtrArray *user_list(struct storage_backend *backend, GError **error)
{
	struct sqlite_backend *b = from_base(backend);
	sqlite3_stmt *stmt = b->stmts[STMT_USER_LIST];
	GPtrArray *jids = g_ptr_array_new_with_free_func(g_free);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(jids, column_strdup(stmt, 0));
	if (rc != SQLITE_DONE) {
		set_db_error(b, error, STORAGE_ERROR_IO, "list the users");
		g_clear_pointer(&jids, g_ptr_array_unref);
	}
	stmt_done(stmt);
	return jids;
}

/* ---- contacts ----------------------------------------------------------- */

/* For an INSERT ... SELECT FROM users WHERE jid = ?1 that just ran: no row
 * means the user is not registered. */
static bool check_user_matched(struct sqlite_backend *b, const char *jid, GError **error)
{
	if (sqlite3_changes(b->db) > 0)
		return true;
	g_set_error(error, STORAGE_ERROR, STORAGE_ERROR_NO_USER, "%s: %s is not registered",
	            b->path, jid);
	return false;
}

static bool contact_put(struct storage_backend *backend, const char *jid, const char *legacy_name,
                        guint flags, GError **error)
{
	struct sqlite_backend *b = from_base(backend);
	sqlite3_stmt *stmt = b->stmts[STMT_CONTACT_PUT];
	if (!bind_text(stmt, 1, jid) || !bind_text(stmt, 2, legacy_name) ||
	    !bind_int(stmt, 3, flags)) {
		set_db_error(b, error, STORAGE_ERROR_IO, "store the contact");
		stmt_done(stmt);
		return false;
	}
	return step_done(b, stmt, "store the contact", error) && check_user_matched(b, jid, error);
}

static bool contact_delete(struct storage_backend *backend, const char *jid,
                           const char *legacy_name, GError **error)
{
	struct sqlite_backend *b = from_base(backend);
	sqlite3_stmt *stmt = b->stmts[STMT_CONTACT_DELETE];
	if (!bind_text(stmt, 1, jid) || !bind_text(stmt, 2, legacy_name)) {
		set_db_error(b, error, STORAGE_ERROR_IO, "delete the contact");
		stmt_done(stmt);
		return false;
	}
	return step_done(b, stmt, "delete the contact", error);
}

static GPtrArray *contact_list(struct storage_backend *backend, const char *jid, GError **error)
{
	struct sqlite_backend *b = from_base(backend);
	sqlite3_stmt *stmt = b->stmts[STMT_CONTACT_LIST];
	if (!bind_text(stmt, 1, jid)) {
		set_db_error(b, error, STORAGE_ERROR_IO, "list the contacts");
		stmt_done(stmt);
		return NULL;
	}
	GPtrArray *contacts = g_ptr_array_new_with_free_func(storage_backend_contact_free);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct storage_contact *contact = g_new0(struct storage_contact, 1);
		contact->legacy_name = column_strdup(stmt, 0);
		contact->flags = (guint)sqlite3_column_int64(stmt, 1);
		g_ptr_array_add(contacts, contact);
	}
	if (rc != SQLITE_DONE) {
		set_db_error(b, error, STORAGE_ERROR_IO, "list the contacts");
		g_clear_pointer(&contacts, g_ptr_array_unref);
	}
	stmt_done(stmt);
	return contacts;
}

/* ---- outbox ------------------------------------------------------------- */

static gint64 outbox_add(struct storage_backend *backend, const char *jid, const char *legacy_name,
                         GBytes *text, const char *stanza_id, const char *sender, gint64 created,
                         GError **error)
{
	struct sqlite_backend *b = from_base(backend);
	sqlite3_stmt *stmt = b->stmts[STMT_OUTBOX_ADD];
	if (!bind_text(stmt, 1, jid) || !bind_text(stmt, 2, legacy_name) ||
	    !bind_bytes(stmt, 3, text) || !bind_text(stmt, 4, stanza_id) ||
	    !bind_text(stmt, 5, sender) || !bind_int(stmt, 6, created)) {
		set_db_error(b, error, STORAGE_ERROR_IO, "queue the message");
		stmt_done(stmt);
		return 0;
	}
	if (!step_done(b, stmt, "queue the message", error) || !check_user_matched(b, jid, error))
		return 0;
	return sqlite3_last_insert_rowid(b->db);
}

static bool outbox_delete(struct storage_backend *backend, gint64 id, GError **error)
{
	struct sqlite_backend *b = from_base(backend);
	sqlite3_stmt *stmt = b->stmts[STMT_OUTBOX_DELETE];
	if (!bind_int(stmt, 1, id)) {
		set_db_error(b, error, STORAGE_ERROR_IO, "delete the queued message");
		stmt_done(stmt);
		return false;
	}
	return step_done(b, stmt, "delete the queued message", error);
}

static GPtrArray *outbox_list(struct storage_backend *backend, const char *jid, GError **error)
{
	struct sqlite_backend *b = from_base(backend);
	sqlite3_stmt *stmt = b->stmts[STMT_OUTBOX_LIST];
	if (!bind_text(stmt, 1, jid)) {
		set_db_error(b, error, STORAGE_ERROR_IO, "list the queued messages");
		stmt_done(stmt);
		return NULL;
	}
	GPtrArray *rows = g_ptr_array_new_with_free_func(storage_backend_outbox_row_free);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct storage_backend_outbox_row *row =
		    g_new0(struct storage_backend_outbox_row, 1);
		row->id = sqlite3_column_int64(stmt, 0);
		row->legacy_name = column_strdup(stmt, 1);
		row->text = column_bytes(stmt, 2);
		row->stanza_id = column_strdup(stmt, 3);
		row->sender = column_strdup(stmt, 4);
		row->created = sqlite3_column_int64(stmt, 5);
		g_ptr_array_add(rows, row);
	}
	if (rc != SQLITE_DONE) {
		set_db_error(b, error, STORAGE_ERROR_IO, "list the queued messages");
		g_clear_pointer(&rows, g_ptr_array_unref);
	}
	stmt_done(stmt);
	return rows;
}

static gint64 outbox_count(struct storage_backend *backend, const char *jid, GError **error)
{
	struct sqlite_backend *b = from_base(backend);
	sqlite3_stmt *stmt = b->stmts[STMT_OUTBOX_COUNT];
	bool ok = bind_text(stmt, 1, jid) && sqlite3_step(stmt) == SQLITE_ROW;
	gint64 n = ok ? sqlite3_column_int64(stmt, 0) : -1;
	if (!ok)
		set_db_error(b, error, STORAGE_ERROR_IO, "count the queued messages");
	stmt_done(stmt);
	return n;
}

/* ---- facts about the database ------------------------------------------- */

static bool meta_get(struct storage_backend *backend, const char *key, GBytes **value,
                     GError **error)
{
	struct sqlite_backend *b = from_base(backend);
	sqlite3_stmt *stmt = b->stmts[STMT_META_GET];
	*value = NULL;
	if (!bind_text(stmt, 1, key)) {
		set_db_error(b, error, STORAGE_ERROR_IO, "read the database's facts");
		stmt_done(stmt);
		return false;
	}
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*value = column_bytes(stmt, 0);
	else if (rc != SQLITE_DONE)
		set_db_error(b, error, STORAGE_ERROR_IO, "read the database's facts");
	stmt_done(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

static bool meta_put(struct storage_backend *backend, const char *key, GBytes *value,
                     GError **error)
{
	struct sqlite_backend *b = from_base(backend);
	sqlite3_stmt *stmt = b->stmts[STMT_META_PUT];
	if (!bind_text(stmt, 1, key) || !bind_bytes(stmt, 2, value)) {
		set_db_error(b, error, STORAGE_ERROR_IO, "store the database's facts");
		stmt_done(stmt);
		return false;
	}
	return step_done(b, stmt, "store the database's facts", error);
}

static GPtrArray *sealed_list(struct storage_backend *backend, GError **error)
{
	struct sqlite_backend *b = from_base(backend);
	sqlite3_stmt *stmt = b->stmts[STMT_SEALED_LIST];
	GPtrArray *rows = g_ptr_array_new_with_free_func(storage_backend_sealed_free);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct storage_backend_sealed *row = g_new0(struct storage_backend_sealed, 1);
		row->jid = column_strdup(stmt, 0);
		row->column = sqlite3_column_int(stmt, 1) == 0 ? STORAGE_SEALED_PASSWORD
		                                               : STORAGE_SEALED_OUTBOX_TEXT;
		row->value = column_bytes(stmt, 2);
		g_ptr_array_add(rows, row);
	}
	if (rc != SQLITE_DONE) {
		set_db_error(b, error, STORAGE_ERROR_IO, "list the sealed values");
		g_clear_pointer(&rows, g_ptr_array_unref);
	}
	stmt_done(stmt);
	return rows;
}

/* ---- contact addresses ----------------------------------------------------- */

static bool address_get(struct storage_backend *backend, const char *localpart, char **legacy_name,
                        GError **error)
{
	struct sqlite_backend *b = from_base(backend);
	sqlite3_stmt *stmt = b->stmts[STMT_ADDRESS_GET];
	*legacy_name = NULL;
	if (!bind_text(stmt, 1, localpart)) {
		set_db_error(b, error, STORAGE_ERROR_IO, "read a contact address");
		stmt_done(stmt);
		return false;
	}
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*legacy_name =
		    g_strndup(sqlite3_column_blob(stmt, 0), (gsize)sqlite3_column_bytes(stmt, 0));
	else if (rc != SQLITE_DONE)
		set_db_error(b, error, STORAGE_ERROR_IO, "read a contact address");
	stmt_done(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

static bool address_put(struct storage_backend *backend, const char *localpart,
                        const char *legacy_name, GError **error)
{
	struct sqlite_backend *b = from_base(backend);
	sqlite3_stmt *stmt = b->stmts[STMT_ADDRESS_PUT];
	if (!bind_text(stmt, 1, localpart) ||
	    sqlite3_bind_blob(stmt, 2, legacy_name, (int)strlen(legacy_name), SQLITE_TRANSIENT) !=
	        SQLITE_OK) {
		set_db_error(b, error, STORAGE_ERROR_IO, "store a contact address");
		stmt_done(stmt);
		return false;
	}
	return step_done(b, stmt, "store a contact address", error);
}

/* ---- the operations ------------------------------------------------------ */

const struct storage_backend sqlite_backend_operations = {
    .free = sqlite_backend_free,
    .schema_version = sqlite_backend_schema_version,
    .user_put = user_put,
    .user_get = user_get,
    .user_delete = user_delete,
    .user_list = user_list,
    .contact_put = contact_put,
    .contact_delete = contact_delete,
    .contact_list = contact_list,
    .outbox_add = outbox_add,
    .outbox_delete = outbox_delete,
    .outbox_list = outbox_list,
    .outbox_count = outbox_count,
    .meta_get = meta_get,
    .meta_put = meta_put,
    .sealed_list = sealed_list,
    .address_get = address_get,
    .address_put = address_put,
};
