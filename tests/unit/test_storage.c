/* Unit tests for storage over the SQLite backend, in a temporary directory:
 * users, settings, contacts, outbox, cascades, that secrets never reach the
 * files in clear or open for the wrong user, and the schema migrations. */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "ferry/storage.h"

#define ALICE "alice@example.org"
#define BOB "bob@example.org"
#define MALLORY "mallory@example.org"

struct fixture {
	char *dir;               /* temporary, removed at teardown */
	char *db_path;           /* DIR/ferry.db */
	struct secrets *secrets; /* a fixed test key */
	struct storage *storage; /* open on DB_PATH */
};

static struct storage *open_storage(struct fixture *f)
{
	g_autoptr(GError) err = NULL;
	struct storage *storage = storage_open_sqlite(f->db_path, f->secrets, &err);
	g_assert_no_error(err);
	g_assert_nonnull(storage);
	return storage;
}

static void setup(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	f->dir = g_dir_make_tmp("ferry-test-storage-XXXXXX", &err);
	g_assert_no_error(err);
	f->db_path = g_build_filename(f->dir, "ferry.db", NULL);
	guint8 key[SECRETS_KEY_BYTES];
	for (int i = 0; i < SECRETS_KEY_BYTES; i++)
		key[i] = (guint8)(0xA0 + i);
	f->secrets = secrets_new_from_key(key);
	f->storage = open_storage(f);
}

static void teardown(struct fixture *f, gconstpointer data)
{
	storage_free(f->storage);
	secrets_free(f->secrets);
	GDir *d = g_dir_open(f->dir, 0, NULL);
	g_assert_nonnull(d);
	const char *name;
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(f->dir, name, NULL);
		g_assert_cmpint(g_unlink(path), ==, 0);
	}
	g_dir_close(d);
	g_assert_cmpint(g_rmdir(f->dir), ==, 0);
	g_free(f->db_path);
	g_free(f->dir);
}

/* ---- raw SQL, behind storage's back ------------------------------------- */

static sqlite3 *raw_open(struct fixture *f)
{
	sqlite3 *db = NULL;
	g_assert_cmpint(sqlite3_open_v2(f->db_path, &db, SQLITE_OPEN_READWRITE, NULL), ==,
	                SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void raw_exec(struct fixture *f, const char *sql)
{
	sqlite3 *db = raw_open(f);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		g_error("%s: %s", sql, msg);
	g_assert_cmpint(sqlite3_close(db), ==, SQLITE_OK);
}

static gint64 raw_int(struct fixture *f, const char *sql)
{
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *stmt = NULL;
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
	gint64 value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	g_assert_cmpint(sqlite3_close(db), ==, SQLITE_OK);
	return value;
}

static char *raw_text(struct fixture *f, const char *sql)
{
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *stmt = NULL;
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
	char *value = g_strdup((const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	g_assert_cmpint(sqlite3_close(db), ==, SQLITE_OK);
	return value;
}

/* ---- helpers ------------------------------------------------------------ */

static GHashTable *settings_new(const char *first_key, ...) G_GNUC_NULL_TERMINATED;
static GHashTable *settings_new(const char *first_key, ...)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	va_list ap;
	va_start(ap, first_key);
	for (const char *k = first_key; k != NULL; k = va_arg(ap, const char *))
		g_hash_table_insert(t, g_strdup(k), g_strdup(va_arg(ap, const char *)));
	va_end(ap);
	return t;
}

static void put_user(struct fixture *f, const char *jid, const char *password)
{
	g_autoptr(GError) err = NULL;
	g_assert_true(storage_user_put(f->storage, jid, NULL, password, &err));
	g_assert_no_error(err);
}

static void put_contact(struct fixture *f, const char *jid, const char *name, guint flags)
{
	g_autoptr(GError) err = NULL;
	g_assert_true(storage_contact_put(f->storage, jid, name, flags, &err));
	g_assert_no_error(err);
}

static gint64 add_outbox(struct fixture *f, const char *jid, const char *to, const char *text)
{
	g_autoptr(GError) err = NULL;
	gint64 id = storage_outbox_add(f->storage, jid, to, text, "msg-1", "a@b/c", &err);
	g_assert_no_error(err);
	g_assert_cmpint(id, >, 0);
	return id;
}

/* Asserts the user list is exactly the NULL-terminated EXPECTED. */
static void assert_users(struct fixture *f, const char *const *expected)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) users = storage_user_list(f->storage, &err);
	g_assert_no_error(err);
	guint i;
	for (i = 0; i < users->len && expected[i] != NULL; i++)
		g_assert_cmpstr(users->pdata[i], ==, expected[i]);
	g_assert_cmpuint(i, ==, users->len);
	g_assert_null(expected[i]);
}

/* Returns the outbox texts of JID joined by "|", checking it opens. */
static char *outbox_texts(struct fixture *f, const char *jid)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) items = storage_outbox_list(f->storage, jid, &err);
	g_assert_no_error(err);
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < items->len; i++) {
		const struct storage_outbox_item *item = items->pdata[i];
		g_string_append_printf(s, "%s%s", i > 0 ? "|" : "", item->text);
	}
	return g_string_free(s, FALSE);
}

static bool file_contains(const char *path, const char *needle)
{
	g_autofree char *data = NULL;
	gsize len;
	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	size_t n = strlen(needle);
	for (gsize i = 0; i + n <= len; i++)
		if (memcmp(data + i, needle, n) == 0)
			return true;
	return false;
}

/* ---- users and settings ------------------------------------------------- */

static void test_users(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GHashTable) settings =
	    settings_new("server", "irc.example.net", "nick", "Alice", NULL);
	g_assert_true(storage_user_put(f->storage, ALICE, settings, "s3cret", &err));
	g_assert_no_error(err);

	struct storage_user *u = storage_user_get(f->storage, ALICE, &err);
	g_assert_no_error(err);
	g_assert_nonnull(u);
	g_assert_cmpstr(u->jid, ==, ALICE);
	g_assert_cmpstr(u->password, ==, "s3cret");
	g_assert_cmpuint(g_hash_table_size(u->settings), ==, 2);
	g_assert_cmpstr(g_hash_table_lookup(u->settings, "server"), ==, "irc.example.net");
	g_assert_cmpstr(g_hash_table_lookup(u->settings, "nick"), ==, "Alice");
	storage_user_free(u);

	/* Unknown: NULL and no error; the JID is matched exactly. */
	g_assert_null(storage_user_get(f->storage, BOB, &err));
	g_assert_no_error(err);
	g_assert_null(storage_user_get(f->storage, "ALICE@example.org", &err));
	g_assert_no_error(err);

	/* Replace: the settings are the new set, not a merge. */
	g_autoptr(GHashTable) fewer = settings_new("nick", "Al", NULL);
	g_assert_true(storage_user_put(f->storage, ALICE, fewer, "n3w", &err));
	g_assert_no_error(err);
	u = storage_user_get(f->storage, ALICE, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(u->password, ==, "n3w");
	g_assert_cmpuint(g_hash_table_size(u->settings), ==, 1);
	g_assert_cmpstr(g_hash_table_lookup(u->settings, "nick"), ==, "Al");
	storage_user_free(u);

	/* No password and no settings. */
	put_user(f, BOB, NULL);
	u = storage_user_get(f->storage, BOB, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(u->password, ==, "");
	g_assert_cmpuint(g_hash_table_size(u->settings), ==, 0);
	storage_user_free(u);
	g_assert_cmpint(raw_int(f, "SELECT password IS NULL FROM users WHERE jid = '" BOB "'"), ==,
	                1);

	put_user(f, MALLORY, "x");
	assert_users(f, (const char *const[]){ALICE, BOB, MALLORY, NULL});

	g_assert_true(storage_user_delete(f->storage, BOB, &err));
	g_assert_no_error(err);
	g_assert_null(storage_user_get(f->storage, BOB, &err));
	g_assert_no_error(err);
	assert_users(f, (const char *const[]){ALICE, MALLORY, NULL});

	/* Deleting what is not there succeeds and changes nothing. */
	g_assert_true(storage_user_delete(f->storage, BOB, &err));
	g_assert_no_error(err);
	assert_users(f, (const char *const[]){ALICE, MALLORY, NULL});
	storage_user_free(NULL);
}

static void test_settings_only(struct fixture *f, gconstpointer data)
{
	/* storage_user_settings() never opens the password: it answers even
	 * when the password cannot be opened (here: swapped in from BOB). */
	g_autoptr(GError) err = NULL;
	g_autoptr(GHashTable) settings = settings_new("server", "irc.example.net", NULL);
	g_assert_true(storage_user_put(f->storage, ALICE, settings, "alice-pw", &err));
	put_user(f, BOB, "bob-pw");
	raw_exec(f, "UPDATE users SET password = (SELECT password FROM users WHERE jid = '" BOB
	            "') WHERE jid = '" ALICE "'");
	g_assert_null(storage_user_get(f->storage, ALICE, &err));
	g_assert_error(err, SECRETS_ERROR, SECRETS_ERROR_DECRYPT);
	g_clear_error(&err);

	g_autoptr(GHashTable) got = storage_user_settings(f->storage, ALICE, &err);
	g_assert_no_error(err);
	g_assert_nonnull(got);
	g_assert_cmpuint(g_hash_table_size(got), ==, 1);
	g_assert_cmpstr(g_hash_table_lookup(got, "server"), ==, "irc.example.net");
	g_assert_null(g_hash_table_lookup(got, "password"));

	g_assert_null(storage_user_settings(f->storage, MALLORY, &err));
	g_assert_no_error(err);
}

static void test_replace_keeps_the_rest(struct fixture *f, gconstpointer data)
{
	put_user(f, ALICE, "one");
	put_contact(f, ALICE, "bob", 1);
	add_outbox(f, ALICE, "bob", "hello");
	gint64 id = raw_int(f, "SELECT id FROM users WHERE jid = '" ALICE "'");
	gint64 created = raw_int(f, "SELECT created FROM users WHERE jid = '" ALICE "'");

	put_user(f, ALICE, "two");
	g_assert_cmpint(raw_int(f, "SELECT id FROM users WHERE jid = '" ALICE "'"), ==, id);
	g_assert_cmpint(raw_int(f, "SELECT created FROM users WHERE jid = '" ALICE "'"), ==,
	                created);
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) contacts = storage_contact_list(f->storage, ALICE, &err);
	g_assert_no_error(err);
	g_assert_cmpuint(contacts->len, ==, 1);
	g_autofree char *texts = outbox_texts(f, ALICE);
	g_assert_cmpstr(texts, ==, "hello");
}

static void test_settings(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GHashTable) settings =
	    settings_new("server", "irc.example.net", "empty", "", "utf8", "Grüße, 世界",
	                 "quote'key", "semi;colon = \"x\"", NULL);
	g_assert_true(storage_user_put(f->storage, ALICE, settings, "pw", &err));
	g_assert_no_error(err);

	struct storage_user *u = storage_user_get(f->storage, ALICE, &err);
	g_assert_no_error(err);
	g_assert_cmpuint(g_hash_table_size(u->settings), ==, 4);
	g_assert_cmpstr(g_hash_table_lookup(u->settings, "server"), ==, "irc.example.net");
	g_assert_cmpstr(g_hash_table_lookup(u->settings, "empty"), ==, "");
	g_assert_cmpstr(g_hash_table_lookup(u->settings, "utf8"), ==, "Grüße, 世界");
	g_assert_cmpstr(g_hash_table_lookup(u->settings, "quote'key"), ==, "semi;colon = \"x\"");
	storage_user_free(u);

	/* Another user's settings are separate. */
	g_autoptr(GHashTable) other = settings_new("server", "irc.other.net", NULL);
	g_assert_true(storage_user_put(f->storage, BOB, other, NULL, &err));
	u = storage_user_get(f->storage, ALICE, &err);
	g_assert_cmpstr(g_hash_table_lookup(u->settings, "server"), ==, "irc.example.net");
	storage_user_free(u);
}

/* ---- secrets at rest ---------------------------------------------------- */

static void test_no_cleartext(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GHashTable) settings = settings_new("server", "SETTING-IN-CLEAR", NULL);
	g_assert_true(
	    storage_user_put(f->storage, ALICE, settings, "hunter2-PLAINTEXT-CHECK", &err));
	g_assert_no_error(err);
	add_outbox(f, ALICE, "bob", "outbox-PLAINTEXT-CHECK");

	g_autofree char *wal = g_strconcat(f->db_path, "-wal", NULL);
	g_autofree char *shm = g_strconcat(f->db_path, "-shm", NULL);
	g_assert_true(g_file_test(wal, G_FILE_TEST_IS_REGULAR));
	g_assert_true(g_file_test(shm, G_FILE_TEST_IS_REGULAR));
	const char *files[] = {f->db_path, wal, shm};
	bool setting_seen = false;
	for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
		g_assert_false(file_contains(files[i], "hunter2-PLAINTEXT-CHECK"));
		g_assert_false(file_contains(files[i], "PLAINTEXT"));
		setting_seen = setting_seen || file_contains(files[i], "SETTING-IN-CLEAR");
	}
	/* The search works: a value stored in clear is found. */
	g_assert_true(setting_seen);

	/* After the checkpoint at close, the main file still has none. */
	storage_free(f->storage);
	f->storage = NULL;
	g_assert_false(file_contains(f->db_path, "PLAINTEXT"));
	g_assert_true(file_contains(f->db_path, "SETTING-IN-CLEAR"));
	f->storage = open_storage(f);

	struct storage_user *u = storage_user_get(f->storage, ALICE, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(u->password, ==, "hunter2-PLAINTEXT-CHECK");
	storage_user_free(u);
	g_autofree char *texts = outbox_texts(f, ALICE);
	g_assert_cmpstr(texts, ==, "outbox-PLAINTEXT-CHECK");
}

static void test_password_moved_to_other_user(struct fixture *f, gconstpointer data)
{
	put_user(f, ALICE, "alice-password");
	put_user(f, MALLORY, "mallory-password");
	raw_exec(f, "UPDATE users SET password = (SELECT password FROM users WHERE jid = '" ALICE
	            "') WHERE jid = '" MALLORY "'");
	g_assert_cmpint(raw_int(f, "SELECT COUNT(DISTINCT password) FROM users"), ==, 1);

	g_autoptr(GError) err = NULL;
	g_assert_null(storage_user_get(f->storage, MALLORY, &err));
	g_assert_error(err, SECRETS_ERROR, SECRETS_ERROR_DECRYPT);
	g_assert_null(strstr(err->message, "alice-password"));
	g_clear_error(&err);

	struct storage_user *u = storage_user_get(f->storage, ALICE, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(u->password, ==, "alice-password");
	storage_user_free(u);
}

static void test_password_moved_to_outbox(struct fixture *f, gconstpointer data)
{
	put_user(f, ALICE, "alice-password");
	gint64 first = add_outbox(f, ALICE, "bob", "first");
	gint64 second = add_outbox(f, ALICE, "bob", "second");
	g_autofree char *sql = g_strdup_printf(
	    "UPDATE outbox SET text = (SELECT password FROM users WHERE jid = '" ALICE "') "
	    "WHERE id = %" G_GINT64_FORMAT,
	    first);
	raw_exec(f, sql);

	/* Same owner, so the AAD matches: the kind must stop it. */
	g_autofree char *pattern = g_strdup_printf(
	    "outbox of " ALICE ": skipping item %" G_GINT64_FORMAT ": *another kind*", first);
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, pattern);
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) items = storage_outbox_list(f->storage, ALICE, &err);
	g_test_assert_expected_messages();
	g_assert_no_error(err);
	g_assert_cmpuint(items->len, ==, 1);
	const struct storage_outbox_item *item = items->pdata[0];
	g_assert_cmpint(item->id, ==, second);
	g_assert_cmpstr(item->text, ==, "second");

	/* The bad item is left in place. */
	g_assert_cmpint(raw_int(f, "SELECT COUNT(*) FROM outbox"), ==, 2);
}

static void test_outbox_tampered(struct fixture *f, gconstpointer data)
{
	put_user(f, ALICE, NULL);
	put_user(f, BOB, NULL);
	gint64 id = add_outbox(f, ALICE, "carol", "for carol");
	add_outbox(f, BOB, "dave", "for dave");
	/* Bob's item moved to Alice: fails on the owner (AAD). */
	raw_exec(f, "UPDATE outbox SET user_id = (SELECT id FROM users WHERE jid = '" ALICE "') "
	            "WHERE legacy_name = 'dave'");
	gint64 moved = raw_int(f, "SELECT id FROM outbox WHERE legacy_name = 'dave'");
	/* Alice's own item gets one bit flipped in its tag. */
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *stmt = NULL;
	g_assert_cmpint(
	    sqlite3_prepare_v2(db, "SELECT text FROM outbox WHERE id = ?1", -1, &stmt, NULL), ==,
	    SQLITE_OK);
	sqlite3_bind_int64(stmt, 1, id);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
	int len = sqlite3_column_bytes(stmt, 0);
	guint8 *blob = g_malloc(len);
	memcpy(blob, sqlite3_column_blob(stmt, 0), len);
	sqlite3_finalize(stmt);
	blob[len - 1] ^= 0x01;
	g_assert_cmpint(
	    sqlite3_prepare_v2(db, "UPDATE outbox SET text = ?1 WHERE id = ?2", -1, &stmt, NULL),
	    ==, SQLITE_OK);
	sqlite3_bind_blob(stmt, 1, blob, len, g_free);
	sqlite3_bind_int64(stmt, 2, id);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_DONE);
	sqlite3_finalize(stmt);
	g_assert_cmpint(sqlite3_close(db), ==, SQLITE_OK);

	g_autofree char *p1 = g_strdup_printf(
	    "outbox of " ALICE ": skipping item %" G_GINT64_FORMAT ": *authentication failed*", id);
	g_autofree char *p2 = g_strdup_printf("outbox of " ALICE ": skipping item %" G_GINT64_FORMAT
	                                      ": *authentication failed*",
	                                      moved);
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, p1);
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, p2);
	g_autofree char *texts = outbox_texts(f, ALICE);
	g_test_assert_expected_messages();
	g_assert_cmpstr(texts, ==, "");
	g_assert_cmpint(raw_int(f, "SELECT COUNT(*) FROM outbox"), ==, 2);
}

/* ---- contacts ----------------------------------------------------------- */

/* Returns the contacts of JID as "name=flags" joined by ",". */
static char *contacts_str(struct fixture *f, const char *jid)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) contacts = storage_contact_list(f->storage, jid, &err);
	g_assert_no_error(err);
	GString *s = g_string_new(NULL);
	for (guint i = 0; i < contacts->len; i++) {
		const struct storage_contact *c = contacts->pdata[i];
		g_string_append_printf(s, "%s%s=%u", i > 0 ? "," : "", c->legacy_name, c->flags);
	}
	return g_string_free(s, FALSE);
}

static void test_contacts(struct fixture *f, gconstpointer data)
{
	put_user(f, ALICE, NULL);
	put_user(f, BOB, NULL);
	put_contact(f, ALICE, "[Foo]|^", 0);
	put_contact(f, ALICE, "bob", STORAGE_CONTACT_SUBSCRIBE_SENT);
	put_contact(f, ALICE, "Bob", STORAGE_CONTACT_IN_ROSTER);
	put_contact(f, BOB, "carol", 0);

	/* Case kept and distinct; byte order. */
	g_autofree char *s1 = contacts_str(f, ALICE);
	g_assert_cmpstr(s1, ==, "Bob=2,[Foo]|^=0,bob=1");

	/* Update flags in place. */
	put_contact(f, ALICE, "bob", STORAGE_CONTACT_SUBSCRIBE_SENT | STORAGE_CONTACT_IN_ROSTER);
	put_contact(f, ALICE, "[Foo]|^", STORAGE_CONTACT_IN_ROSTER);
	g_autofree char *s2 = contacts_str(f, ALICE);
	g_assert_cmpstr(s2, ==, "Bob=2,[Foo]|^=2,bob=3");

	g_autoptr(GError) err = NULL;
	g_assert_true(storage_contact_delete(f->storage, ALICE, "BOB", &err));
	g_assert_no_error(err);
	g_autofree char *s3 = contacts_str(f, ALICE);
	g_assert_cmpstr(s3, ==, "Bob=2,[Foo]|^=2,bob=3");
	g_assert_true(storage_contact_delete(f->storage, ALICE, "bob", &err));
	g_assert_no_error(err);
	g_autofree char *s4 = contacts_str(f, ALICE);
	g_assert_cmpstr(s4, ==, "Bob=2,[Foo]|^=2");

	/* Bob's are his own; Alice cannot delete them. */
	g_assert_true(storage_contact_delete(f->storage, ALICE, "carol", &err));
	g_autofree char *s5 = contacts_str(f, BOB);
	g_assert_cmpstr(s5, ==, "carol=0");

	/* Unregistered users. */
	g_assert_false(storage_contact_put(f->storage, MALLORY, "x", 0, &err));
	g_assert_error(err, STORAGE_ERROR, STORAGE_ERROR_NO_USER);
	g_clear_error(&err);
	g_autofree char *s6 = contacts_str(f, MALLORY);
	g_assert_cmpstr(s6, ==, "");
	g_assert_cmpint(raw_int(f, "SELECT COUNT(*) FROM contacts"), ==, 3);
}

/* ---- outbox ------------------------------------------------------------- */

static void test_outbox(struct fixture *f, gconstpointer data)
{
	put_user(f, ALICE, NULL);
	put_user(f, BOB, NULL);
	gint64 before = g_get_real_time() / G_USEC_PER_SEC;
	g_autoptr(GError) err = NULL;
	gint64 a =
	    storage_outbox_add(f->storage, ALICE, "Carol", "one", "id-1", ALICE "/phone", &err);
	g_assert_no_error(err);
	gint64 b = storage_outbox_add(f->storage, ALICE, "dave", "two ?OTR:AAMG  \t", NULL,
	                              ALICE "/desk", &err);
	g_assert_no_error(err);
	gint64 c = add_outbox(f, ALICE, "Carol", "");
	gint64 other = add_outbox(f, BOB, "erin", "bob's");
	gint64 after = g_get_real_time() / G_USEC_PER_SEC;
	g_assert_cmpint(a, <, b);
	g_assert_cmpint(b, <, c);
	g_assert_cmpint(c, <, other);

	g_autoptr(GPtrArray) items = storage_outbox_list(f->storage, ALICE, &err);
	g_assert_no_error(err);
	g_assert_cmpuint(items->len, ==, 3);
	const struct storage_outbox_item *i0 = items->pdata[0];
	const struct storage_outbox_item *i1 = items->pdata[1];
	const struct storage_outbox_item *i2 = items->pdata[2];
	g_assert_cmpint(i0->id, ==, a);
	g_assert_cmpstr(i0->legacy_name, ==, "Carol");
	g_assert_cmpstr(i0->text, ==, "one");
	g_assert_cmpstr(i0->stanza_id, ==, "id-1");
	g_assert_cmpstr(i0->sender, ==, ALICE "/phone");
	g_assert_cmpint(i0->created, >=, before);
	g_assert_cmpint(i0->created, <=, after);
	g_assert_cmpint(i1->id, ==, b);
	g_assert_cmpstr(i1->legacy_name, ==, "dave");
	g_assert_cmpstr(i1->text, ==, "two ?OTR:AAMG  \t");
	g_assert_null(i1->stanza_id);
	g_assert_cmpstr(i1->sender, ==, ALICE "/desk");
	g_assert_cmpint(i2->id, ==, c);
	g_assert_cmpstr(i2->text, ==, "");

	g_assert_true(storage_outbox_delete(f->storage, b, &err));
	g_assert_no_error(err);
	g_autofree char *t1 = outbox_texts(f, ALICE);
	g_assert_cmpstr(t1, ==, "one|");
	g_autofree char *t2 = outbox_texts(f, BOB);
	g_assert_cmpstr(t2, ==, "bob's");

	/* Deleting twice succeeds; ids are never reused. */
	g_assert_true(storage_outbox_delete(f->storage, b, &err));
	g_assert_no_error(err);
	g_assert_true(storage_outbox_delete(f->storage, other, &err));
	gint64 next = add_outbox(f, ALICE, "Carol", "later");
	g_assert_cmpint(next, >, other);
	g_autofree char *t3 = outbox_texts(f, ALICE);
	g_assert_cmpstr(t3, ==, "one||later");

	g_assert_cmpint(storage_outbox_add(f->storage, MALLORY, "x", "y", NULL, "m@x/y", &err), ==,
	                0);
	g_assert_error(err, STORAGE_ERROR, STORAGE_ERROR_NO_USER);
	g_clear_error(&err);
	g_autofree char *t4 = outbox_texts(f, MALLORY);
	g_assert_cmpstr(t4, ==, "");
}

static void test_delete_cascades(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GHashTable) settings = settings_new("nick", "x", NULL);
	g_assert_true(storage_user_put(f->storage, ALICE, settings, "pw", &err));
	g_assert_true(storage_user_put(f->storage, BOB, settings, "pw", &err));
	g_assert_no_error(err);
	put_contact(f, ALICE, "c1", 0);
	put_contact(f, ALICE, "c2", 0);
	put_contact(f, BOB, "c3", 0);
	add_outbox(f, ALICE, "c1", "m1");
	add_outbox(f, ALICE, "c2", "m2");
	add_outbox(f, BOB, "c3", "m3");
	g_assert_cmpint(raw_int(f, "SELECT COUNT(*) FROM contacts"), ==, 3);
	g_assert_cmpint(raw_int(f, "SELECT COUNT(*) FROM outbox"), ==, 3);
	g_assert_cmpint(raw_int(f, "SELECT COUNT(*) FROM user_settings"), ==, 2);

	g_assert_true(storage_user_delete(f->storage, ALICE, &err));
	g_assert_no_error(err);
	g_assert_cmpint(raw_int(f, "SELECT COUNT(*) FROM users"), ==, 1);
	g_assert_cmpint(raw_int(f, "SELECT COUNT(*) FROM contacts"), ==, 1);
	g_assert_cmpint(raw_int(f, "SELECT COUNT(*) FROM outbox"), ==, 1);
	g_assert_cmpint(raw_int(f, "SELECT COUNT(*) FROM user_settings"), ==, 1);
	g_autofree char *c = contacts_str(f, BOB);
	g_assert_cmpstr(c, ==, "c3=0");
	g_autofree char *t = outbox_texts(f, BOB);
	g_assert_cmpstr(t, ==, "m3");

	/* Re-registering starts empty. */
	put_user(f, ALICE, "pw");
	g_autofree char *c2 = contacts_str(f, ALICE);
	g_assert_cmpstr(c2, ==, "");
	g_autofree char *t2 = outbox_texts(f, ALICE);
	g_assert_cmpstr(t2, ==, "");
}

/* ---- the database file and its schema ----------------------------------- */

static void test_fresh(struct fixture *f, gconstpointer data)
{
	g_assert_cmpint(storage_schema_version(f->storage), ==, 3);
	g_assert_cmpint(raw_int(f, "PRAGMA user_version"), ==, 3);
	g_autofree char *mode = raw_text(f, "PRAGMA journal_mode");
	g_assert_cmpstr(mode, ==, "wal");
	g_assert_cmpint(raw_int(f,
	                        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND "
	                        "name IN ('users', 'user_settings', 'contacts', 'outbox', 'meta')"),
	                ==, 5);
}

static void test_reopen(struct fixture *f, gconstpointer data)
{
	put_user(f, ALICE, "pw");
	put_contact(f, ALICE, "bob", 1);
	add_outbox(f, ALICE, "bob", "queued");
	storage_free(f->storage);
	f->storage = open_storage(f);

	g_assert_cmpint(storage_schema_version(f->storage), ==, 3);
	g_assert_cmpint(raw_int(f, "PRAGMA user_version"), ==, 3);
	g_autoptr(GError) err = NULL;
	struct storage_user *u = storage_user_get(f->storage, ALICE, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(u->password, ==, "pw");
	storage_user_free(u);
	g_autofree char *c = contacts_str(f, ALICE);
	g_assert_cmpstr(c, ==, "bob=1");
	g_autofree char *t = outbox_texts(f, ALICE);
	g_assert_cmpstr(t, ==, "queued");
}

/* Contact addresses: held once, read back byte for byte (a name that is
 * not UTF-8 too), kept across a reopen, for every user. */
static void test_addresses(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	char *name = NULL;
	g_assert_true(storage_address_get(f->storage, "alice~c9bf9f6c", &name, &err));
	g_assert_no_error(err);
	g_assert_null(name);
	g_assert_true(storage_address_put(f->storage, "alice~c9bf9f6c", "\xef\xbd\x81lice", &err));
	g_assert_true(storage_address_put(f->storage, "bad~01234567", "bad\xff", &err));
	g_assert_no_error(err);
	g_assert_false(storage_address_put(f->storage, "bad~01234567", "other", &err));
	g_assert_error(err, STORAGE_ERROR, STORAGE_ERROR_IO);
	g_clear_error(&err);
	storage_free(f->storage);
	f->storage = open_storage(f);
	g_assert_true(storage_address_get(f->storage, "alice~c9bf9f6c", &name, &err));
	g_assert_cmpstr(name, ==, "\xef\xbd\x81lice");
	g_free(name);
	g_assert_true(storage_address_get(f->storage, "bad~01234567", &name, &err));
	g_assert_cmpstr(name, ==, "bad\xff");
	g_free(name);
	g_assert_no_error(err);
}

static void test_newer_version(struct fixture *f, gconstpointer data)
{
	put_user(f, ALICE, "pw");
	storage_free(f->storage);
	f->storage = NULL;
	raw_exec(f, "PRAGMA user_version = 99");

	g_autoptr(GError) err = NULL;
	g_assert_null(storage_open_sqlite(f->db_path, f->secrets, &err));
	g_assert_error(err, STORAGE_ERROR, STORAGE_ERROR_VERSION);
	g_autofree char *expected = g_strdup_printf(
	    "%s: the database schema is version 99, newer than this ferry knows (3); run a "
	    "newer ferry, or restore a backup of this one's database",
	    f->db_path);
	g_assert_cmpstr(err->message, ==, expected);
	/* Untouched. */
	g_assert_cmpint(raw_int(f, "PRAGMA user_version"), ==, 99);
	g_assert_cmpint(raw_int(f, "SELECT COUNT(*) FROM users"), ==, 1);

	raw_exec(f, "PRAGMA user_version = 3");
	f->storage = open_storage(f);
}

static void test_file_mode(struct fixture *f, gconstpointer data)
{
	/* Make a new database with the most permissive umask. */
	storage_free(f->storage);
	f->storage = NULL;
	g_assert_cmpint(g_unlink(f->db_path), ==, 0);
	mode_t old_umask = umask(0);
	f->storage = open_storage(f);
	umask(old_umask);
	put_user(f, ALICE, "pw");

	g_autofree char *wal = g_strconcat(f->db_path, "-wal", NULL);
	g_autofree char *shm = g_strconcat(f->db_path, "-shm", NULL);
	const char *files[] = {f->db_path, wal, shm};
	for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
		struct stat st;
		g_assert_cmpint(stat(files[i], &st), ==, 0);
		g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
	}
}

static void test_open_errors(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *missing = g_build_filename(f->dir, "no", "such", "ferry.db", NULL);
	g_assert_null(storage_open_sqlite(missing, f->secrets, &err));
	g_assert_error(err, STORAGE_ERROR, STORAGE_ERROR_OPEN);
	g_assert_true(g_str_has_prefix(err->message, missing));
	g_clear_error(&err);

	g_autofree char *garbage = g_build_filename(f->dir, "garbage.db", NULL);
	g_assert_true(
	    g_file_set_contents(garbage, "this is not a database, not at all. ", -1, NULL));
	g_assert_cmpint(g_chmod(garbage, 0600), ==, 0);
	g_assert_null(storage_open_sqlite(garbage, f->secrets, &err));
	g_assert_error(err, STORAGE_ERROR, STORAGE_ERROR_OPEN);
	g_assert_true(g_str_has_prefix(err->message, garbage));
}

/* ---- the key check and the lock ----------------------------------------- */

static struct secrets *other_key(void)
{
	guint8 key[SECRETS_KEY_BYTES];
	for (int i = 0; i < SECRETS_KEY_BYTES; i++)
		key[i] = (guint8)(0x10 + i);
	return secrets_new_from_key(key);
}

/* Reopens with SECRETS, expecting STORAGE_ERROR_KEY with WHY in it. */
static void assert_refused(struct fixture *f, struct secrets *secrets, const char *why)
{
	g_autoptr(GError) err = NULL;
	g_assert_null(storage_open_sqlite(f->db_path, secrets, &err));
	g_assert_error(err, STORAGE_ERROR, STORAGE_ERROR_KEY);
	g_autofree char *start = g_strdup_printf("%s: %s with the key given: it is not the key "
	                                         "this database was made with. Restore",
	                                         f->db_path, why);
	g_assert_true(g_str_has_prefix(err->message, start));
	g_autofree char *mv = g_strdup_printf("(mv %s %s.old)", f->db_path, f->db_path);
	g_assert_true(g_str_has_suffix(err->message, mv));
}

static void test_key_check_written(struct fixture *f, gconstpointer data)
{
	/* A new database knows its key at once, before anything is sealed. */
	g_assert_cmpint(raw_int(f, "SELECT COUNT(*) FROM meta WHERE key = 'key_check'"), ==, 1);
	storage_free(f->storage);
	f->storage = NULL;
	struct secrets *other = other_key();
	assert_refused(f, other, "its key check value does not open");
	secrets_free(other);
	f->storage = open_storage(f);
}

/* A database from before the check: its sealed rows decide. */
static void test_key_old_database(struct fixture *f, gconstpointer data)
{
	put_user(f, ALICE, "pw");
	put_user(f, BOB, NULL);
	add_outbox(f, BOB, "carol", "queued");
	storage_free(f->storage);
	f->storage = NULL;
	raw_exec(f, "DELETE FROM meta");

	struct secrets *other = other_key();
	assert_refused(f, other, "none of its 2 sealed values (passwords, queued messages) opens");
	/* Nothing written by the refused open. */
	g_assert_cmpint(raw_int(f, "SELECT COUNT(*) FROM meta"), ==, 0);

	/* The right key writes the check value, and then the wrong one is
	 * refused by it. */
	f->storage = open_storage(f);
	g_assert_cmpint(raw_int(f, "SELECT COUNT(*) FROM meta WHERE key = 'key_check'"), ==, 1);
	storage_free(f->storage);
	f->storage = NULL;
	assert_refused(f, other, "its key check value does not open");
	secrets_free(other);
	f->storage = open_storage(f);
}

static void test_key_old_database_damaged_row(struct fixture *f, gconstpointer data)
{
	put_user(f, ALICE, "pw");
	put_user(f, BOB, "pw2");
	storage_free(f->storage);
	f->storage = NULL;
	raw_exec(f, "DELETE FROM meta");
	/* One row swapped to the other user does not open; the other does,
	 * which proves the key. */
	raw_exec(f, "UPDATE users SET password = (SELECT password FROM users WHERE jid = '" ALICE
	            "') WHERE jid = '" BOB "'");
	g_autofree char *pattern =
	    g_strdup_printf("%s: 1 of 2 sealed values do not open with this key*", f->db_path);
	g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, pattern);
	f->storage = open_storage(f);
	g_test_assert_expected_messages();
	g_assert_cmpint(raw_int(f, "SELECT COUNT(*) FROM meta WHERE key = 'key_check'"), ==, 1);
}

static void test_key_old_database_nothing_sealed(struct fixture *f, gconstpointer data)
{
	/* Nothing any key could lose: any key is taken, and then kept. */
	put_user(f, ALICE, NULL);
	storage_free(f->storage);
	f->storage = NULL;
	raw_exec(f, "DELETE FROM meta");
	struct secrets *other = other_key();
	g_autoptr(GError) err = NULL;
	f->storage = storage_open_sqlite(f->db_path, other, &err);
	g_assert_no_error(err);
	storage_free(f->storage);
	f->storage = NULL;
	assert_refused(f, f->secrets, "its key check value does not open");
	secrets_free(other);
	raw_exec(f, "DELETE FROM meta");
	f->storage = open_storage(f);
}

static void test_lock(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	struct storage_lock *lock = storage_lock(f->db_path, &err);
	g_assert_no_error(err);
	g_assert_nonnull(lock);
	/* flock belongs to the open file: a second open conflicts even in
	 * this process, as it would in another. */
	g_assert_null(storage_lock(f->db_path, &err));
	g_assert_error(err, STORAGE_ERROR, STORAGE_ERROR_LOCKED);
	g_autofree char *expected = g_strdup_printf(
	    "%s: another ferry (pid %ld) is using this database (it holds %s.lock): stop it "
	    "first, or give this one a [storage] database of its own",
	    f->db_path, (long)getpid(), f->db_path);
	g_assert_cmpstr(err->message, ==, expected);
	g_clear_error(&err);
	g_autofree char *lock_path = g_strconcat(f->db_path, ".lock", NULL);
	struct stat st;
	g_assert_cmpint(stat(lock_path, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 07777, ==, 0600);

	storage_lock_free(lock);
	lock = storage_lock(f->db_path, &err);
	g_assert_no_error(err);
	g_assert_nonnull(lock);
	storage_lock_free(lock);
}

/* Another spelling of the same database meets the same lock: through a
 * symlink to the file, a symlink to its directory, and "..". */
static void test_lock_other_spellings(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	struct storage_lock *lock = storage_lock(f->db_path, &err);
	g_assert_no_error(err);
	g_autofree char *file_link = g_build_filename(f->dir, "link.db", NULL);
	g_autofree char *dir_link = g_strconcat(f->dir, "-link", NULL);
	g_assert_cmpint(symlink(f->db_path, file_link), ==, 0);
	g_assert_cmpint(symlink(f->dir, dir_link), ==, 0);
	g_autofree char *base = g_path_get_basename(f->dir);
	const char *spellings[] = {
	    file_link,
	    g_build_filename(dir_link, "ferry.db", NULL),
	    g_build_filename(f->dir, "..", base, "ferry.db", NULL),
	};
	for (gsize i = 0; i < G_N_ELEMENTS(spellings); i++) {
		g_assert_null(storage_lock(spellings[i], &err));
		g_assert_error(err, STORAGE_ERROR, STORAGE_ERROR_LOCKED);
		g_clear_error(&err);
	}
	storage_lock_free(lock);
	g_free((char *)spellings[1]);
	g_free((char *)spellings[2]);
	g_assert_cmpint(unlink(dir_link), ==, 0);
}

/* The count the per-user outbox bound reads: per user, 0 for a stranger. */
static void test_outbox_count(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) err = NULL;
	g_assert_cmpint(storage_outbox_count(f->storage, ALICE, &err), ==, 0);
	put_user(f, ALICE, NULL);
	put_user(f, BOB, NULL);
	gint64 id = add_outbox(f, ALICE, "bob", "one");
	add_outbox(f, ALICE, "bob", "two");
	add_outbox(f, BOB, "carol", "three");
	g_assert_cmpint(storage_outbox_count(f->storage, ALICE, &err), ==, 2);
	g_assert_cmpint(storage_outbox_count(f->storage, BOB, &err), ==, 1);
	g_assert_true(storage_outbox_delete(f->storage, id, &err));
	g_assert_cmpint(storage_outbox_count(f->storage, ALICE, &err), ==, 1);
	g_assert_no_error(err);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, struct fixture, NULL, setup, fn, teardown)
	ADD("/storage/users", test_users);
	ADD("/storage/users/settings-only", test_settings_only);
	ADD("/storage/users/replace-keeps-the-rest", test_replace_keeps_the_rest);
	ADD("/storage/settings", test_settings);
	ADD("/storage/secrets/no-cleartext", test_no_cleartext);
	ADD("/storage/secrets/password-moved-to-other-user", test_password_moved_to_other_user);
	ADD("/storage/secrets/password-moved-to-outbox", test_password_moved_to_outbox);
	ADD("/storage/secrets/outbox-tampered", test_outbox_tampered);
	ADD("/storage/contacts", test_contacts);
	ADD("/storage/outbox", test_outbox);
	ADD("/storage/outbox/count", test_outbox_count);
	ADD("/storage/delete-cascades", test_delete_cascades);
	ADD("/storage/schema/fresh", test_fresh);
	ADD("/storage/schema/reopen", test_reopen);
	ADD("/storage/addresses", test_addresses);
	ADD("/storage/schema/newer-version", test_newer_version);
	ADD("/storage/file/mode", test_file_mode);
	ADD("/storage/file/open-errors", test_open_errors);
	ADD("/storage/key/check-written", test_key_check_written);
	ADD("/storage/key/old-database", test_key_old_database);
	ADD("/storage/key/old-database-damaged-row", test_key_old_database_damaged_row);
	ADD("/storage/key/old-database-nothing-sealed", test_key_old_database_nothing_sealed);
	ADD("/storage/lock", test_lock);
	ADD("/storage/lock/other-spellings", test_lock_other_spellings);
#undef ADD
	return g_test_run();
}
