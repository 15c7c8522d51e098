/* storage: the backend-neutral half of what ferry keeps between runs. It
 * seals passwords and outbox text before any backend sees them and opens
 * them on the way out (see include/ferry/storage.h and backend.h).
 *
 * Every sealed value starts, inside the ciphertext, with one byte naming
 * its kind (password or outbox text). The owner's JID as AAD already stops
 * a value from moving between users; the kind byte stops it from moving
 * between columns of the same user, so a password copied into an outbox
 * row is never sent to a legacy contact as a message.
 */
#include "config.h"
#include "ferry/storage.h"

#include <string.h>

#include "backend.h"

#define KIND_PASSWORD 'P'
#define KIND_OUTBOX_TEXT 'O'
#define KIND_KEY_CHECK 'K'

/* The key check value: this text sealed for the owner "" (no JID is
 * empty) with its own kind, stored under this meta key. */
#define KEY_CHECK_META "key_check"
#define KEY_CHECK_OWNER ""
#define KEY_CHECK_TEXT "ferry key check"

struct storage {
	struct storage_backend *backend; /* owned */
	struct secrets *secrets;         /* borrowed; outlives us */
};

G_DEFINE_QUARK(ferry-storage-error-quark, storage_error);

/* ---- sealing with a kind ----------------------------------------------- */

/* Seals TEXT for JID, prefixed with KIND. NULL only if OpenSSL fails. */
static GBytes *seal_text(struct storage *storage, const char *jid, char kind, const char *text,
                         GError **error)
{
	size_t len = strlen(text);
	char *buf = g_malloc(len + 2);
	buf[0] = kind;
	memcpy(buf + 1, text, len + 1);
	GBytes *sealed = secrets_seal(storage->secrets, jid, buf, len + 1);
	secrets_wipe_free(buf);
	if (sealed == NULL)
		g_set_error(error, STORAGE_ERROR, STORAGE_ERROR_IO,
		            "cannot encrypt a value of %s (see the log)", jid);
	return sealed;
}

/* Opens SEALED for JID and checks that it is of KIND; returns the text
 * without the kind byte (free with secrets_wipe_free()), or NULL with a
 * SECRETS_ERROR_DECRYPT error. */
static char *open_text(struct storage *storage, const char *jid, char kind, GBytes *sealed,
                       GError **error)
{
	if (sealed == NULL) { /* a backend's NOT NULL column is not our only defence */
		g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_DECRYPT,
		            "cannot open a sealed value of %s: it is missing", jid);
		return NULL;
	}
	/* passwords in secure pages; queued texts (many) on the wiped heap */
	char *text = kind == KIND_PASSWORD
	                 ? secrets_open_string(storage->secrets, jid, sealed, error)
	                 : secrets_open_text(storage->secrets, jid, sealed, error);
	if (text == NULL)
		return NULL;
	if (text[0] != kind) {
		secrets_wipe_free(text);
		g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_DECRYPT,
		            "cannot open a sealed value of %s: it was stored as another kind "
		            "of value",
		            jid);
		return NULL;
	}
	/* Shift left in place, the NUL included, so no copy is left behind. */
	memmove(text, text + 1, strlen(text));
	return text;
}

/* ---- the key check ------------------------------------------------------ */

void storage_backend_sealed_free(gpointer data)
{
	struct storage_backend_sealed *row = data;
	if (row == NULL)
		return;
	g_free(row->jid);
	if (row->value != NULL)
		g_bytes_unref(row->value);
	g_free(row);
}

/* STORAGE_ERROR_KEY for PATH: what is wrong (WHY), and what to do. */
static void set_key_error(struct storage *storage, const char *path, GError **error,
                          const char *why)
{
	const char *key_file = secrets_key_file(storage->secrets);
	g_autofree char *key = key_file != NULL ? g_strdup_printf("the key file %s", key_file)
	                                        : g_strdup("the key given");
	g_set_error(error, STORAGE_ERROR, STORAGE_ERROR_KEY,
	            "%s: %s with %s: it is not the key this database was made with. Restore "
	            "that key file (from your backup, mode 0600); or, to start over with a new "
	            "database (every user registers again), move this one away with its -wal "
	            "and -shm files (mv %s %s.old)",
	            path, why, key, path, path);
}

/* Whether SEALED (from COLUMN of JID) opens with our key. */
static bool sealed_opens(struct storage *storage, const struct storage_backend_sealed *row)
{
	char kind = row->column == STORAGE_SEALED_PASSWORD ? KIND_PASSWORD : KIND_OUTBOX_TEXT;
	g_autoptr(GError) local = NULL;
	char *text = open_text(storage, row->jid, kind, row->value, &local);
	secrets_wipe_free(text);
	return text != NULL;
}

/* Makes sure the database belongs to our key (see storage.h): checks the
 * check value, or, when there is none yet, that the sealed values open,
 * and then writes it. */
static bool check_key(struct storage *storage, const char *path, bool write, GError **error)
{
	struct storage_backend *be = storage->backend;
	g_autoptr(GBytes) check = NULL;
	if (!be->meta_get(be, KEY_CHECK_META, &check, error))
		return false;
	if (check != NULL) {
		g_autoptr(GError) local = NULL;
		char *text = open_text(storage, KEY_CHECK_OWNER, KIND_KEY_CHECK, check, &local);
		bool ok = text != NULL && strcmp(text, KEY_CHECK_TEXT) == 0;
		secrets_wipe_free(text);
		if (!ok)
			set_key_error(storage, path, error, "its key check value does not open");
		return ok;
	}

	/* No check value: a new database, or one from before the check. One
	 * value that opens proves the key (a wrong key opens none: GCM's tag);
	 * values that do not open beside it are damaged rows, which their own
	 * readers report and skip. */
	g_autoptr(GPtrArray) rows = be->sealed_list(be, error);
	if (rows == NULL)
		return false;
	guint opened = 0;
	for (guint i = 0; i < rows->len; i++)
		if (sealed_opens(storage, rows->pdata[i]))
			opened++;
	if (rows->len > 0 && opened == 0) {
		g_autofree char *why = g_strdup_printf(
		    "none of its %u sealed values (passwords, queued messages) opens", rows->len);
		set_key_error(storage, path, error, why);
		return false;
	}
	if (opened < rows->len)
		g_warning("%s: %u of %u sealed values do not open with this key (damaged rows; "
		          "the others do, so the key is right)",
		          path, rows->len - opened, rows->len);
	if (!write)
		return true;
	g_autoptr(GBytes) sealed =
	    seal_text(storage, KEY_CHECK_OWNER, KIND_KEY_CHECK, KEY_CHECK_TEXT, error);
	return sealed != NULL && be->meta_put(be, KEY_CHECK_META, sealed, error);
}

/* ---- lifecycle ---------------------------------------------------------- */

struct storage *storage_open_sqlite(const char *path, struct secrets *secrets, GError **error)
{
	g_return_val_if_fail(path != NULL, NULL);
	g_return_val_if_fail(secrets != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	struct storage_backend *backend = storage_backend_sqlite_open(path, error);
	if (backend == NULL)
		return NULL;
	struct storage *storage = g_new0(struct storage, 1);
	storage->backend = backend;
	storage->secrets = secrets;
	if (!check_key(storage, path, true, error)) {
		storage_free(storage);
		return NULL;
	}
	return storage;
}

bool storage_check_key_sqlite(const char *path, struct secrets *secrets, GError **error)
{
	g_return_val_if_fail(path != NULL, false);
	g_return_val_if_fail(secrets != NULL, false);
	g_return_val_if_fail(error == NULL || *error == NULL, false);

	struct storage_backend *backend = storage_backend_sqlite_open_readonly(path, error);
	if (backend == NULL)
		return false;
	struct storage storage = {.backend = backend, .secrets = secrets};
	bool ok = check_key(&storage, path, false, error);
	backend->free(backend);
	return ok;
}

void storage_free(struct storage *storage)
{
	if (storage == NULL)
		return;
	storage->backend->free(storage->backend);
	g_free(storage);
}

int storage_schema_version(struct storage *storage)
{
	g_return_val_if_fail(storage != NULL, -1);
	return storage->backend->schema_version(storage->backend);
}

/* ---- users -------------------------------------------------------------- */

bool storage_user_put(struct storage *storage, const char *jid, GHashTable *settings,
                      const char *password, GError **error)
{
	g_return_val_if_fail(storage != NULL, false);
	g_return_val_if_fail(jid != NULL, false);
	g_return_val_if_fail(error == NULL || *error == NULL, false);
	/* Settings are stored in clear: a password there would defeat sealing. */
	g_return_val_if_fail(settings == NULL || !g_hash_table_contains(settings, "password"),
	                     false);

	g_autoptr(GBytes) sealed = NULL;
	if (password != NULL && password[0] != '\0') {
		sealed = seal_text(storage, jid, KIND_PASSWORD, password, error);
		if (sealed == NULL)
			return false;
	}
	return storage->backend->user_put(storage->backend, jid, settings, sealed, error);
}

struct storage_user *storage_user_get(struct storage *storage, const char *jid, GError **error)
{
	g_return_val_if_fail(storage != NULL, NULL);
	g_return_val_if_fail(jid != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	bool found = false;
	GHashTable *settings = NULL;
	g_autoptr(GBytes) sealed = NULL;
	if (!storage->backend->user_get(storage->backend, jid, &found, &settings, &sealed, error))
		return NULL;
	if (!found)
		return NULL;

	char *password;
	if (sealed == NULL) {
		password = g_strdup("");
	} else {
		password = open_text(storage, jid, KIND_PASSWORD, sealed, error);
		if (password == NULL) {
			g_hash_table_unref(settings);
			return NULL;
		}
	}
	struct storage_user *user = g_new0(struct storage_user, 1);
	user->jid = g_strdup(jid);
	user->settings = settings;
	user->password = password;
	return user;
}

GHashTable *storage_user_settings(struct storage *storage, const char *jid, GError **error)
{
	g_return_val_if_fail(storage != NULL, NULL);
	g_return_val_if_fail(jid != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	bool found = false;
	GHashTable *settings = NULL;
	g_autoptr(GBytes) sealed = NULL;
	if (!storage->backend->user_get(storage->backend, jid, &found, &settings, &sealed, error))
		return NULL;
	return found ? settings : NULL;
}

bool storage_user_delete(struct storage *storage, const char *jid, GError **error)
{
	g_return_val_if_fail(storage != NULL, false);
	g_return_val_if_fail(jid != NULL, false);
	g_return_val_if_fail(error == NULL || *error == NULL, false);
	return storage->backend->user_delete(storage->backend, jid, error);
}

GPtrArray *storage_user_list(struct storage *storage, GError **error)
{
	g_return_val_if_fail(storage != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);
	return storage->backend->user_list(storage->backend, error);
}

void storage_user_free(struct storage_user *user)
{
	if (user == NULL)
		return;
	g_free(user->jid);
	if (user->settings != NULL)
		g_hash_table_unref(user->settings);
	secrets_wipe_free(user->password);
	g_free(user);
}

/* ---- contacts ----------------------------------------------------------- */

void storage_backend_contact_free(gpointer data)
{
	struct storage_contact *contact = data;
	if (contact == NULL)
		return;
	g_free(contact->legacy_name);
	g_free(contact);
}

bool storage_contact_put(struct storage *storage, const char *jid, const char *legacy_name,
                         guint flags, GError **error)
{
	g_return_val_if_fail(storage != NULL, false);
	g_return_val_if_fail(jid != NULL, false);
	g_return_val_if_fail(legacy_name != NULL, false);
	g_return_val_if_fail(error == NULL || *error == NULL, false);
	return storage->backend->contact_put(storage->backend, jid, legacy_name, flags, error);
}

bool storage_contact_delete(struct storage *storage, const char *jid, const char *legacy_name,
                            GError **error)
{
	g_return_val_if_fail(storage != NULL, false);
	g_return_val_if_fail(jid != NULL, false);
	g_return_val_if_fail(legacy_name != NULL, false);
	g_return_val_if_fail(error == NULL || *error == NULL, false);
	return storage->backend->contact_delete(storage->backend, jid, legacy_name, error);
}

GPtrArray *storage_contact_list(struct storage *storage, const char *jid, GError **error)
{
	g_return_val_if_fail(storage != NULL, NULL);
	g_return_val_if_fail(jid != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);
	return storage->backend->contact_list(storage->backend, jid, error);
}

/* ---- contact addresses -------------------------------------------------- */

bool storage_address_get(struct storage *storage, const char *localpart, char **legacy_name,
                         GError **error)
{
	g_return_val_if_fail(storage != NULL, false);
	g_return_val_if_fail(localpart != NULL && legacy_name != NULL, false);
	g_return_val_if_fail(error == NULL || *error == NULL, false);
	return storage->backend->address_get(storage->backend, localpart, legacy_name, error);
}

bool storage_address_put(struct storage *storage, const char *localpart, const char *legacy_name,
                         GError **error)
{
	g_return_val_if_fail(storage != NULL, false);
	g_return_val_if_fail(localpart != NULL && legacy_name != NULL, false);
	g_return_val_if_fail(error == NULL || *error == NULL, false);
	return storage->backend->address_put(storage->backend, localpart, legacy_name, error);
}

/* ---- outbox ------------------------------------------------------------- */

void storage_backend_outbox_row_free(gpointer data)
{
	struct storage_backend_outbox_row *row = data;
	if (row == NULL)
		return;
	g_free(row->legacy_name);
	if (row->text != NULL)
		g_bytes_unref(row->text);
	g_free(row->stanza_id);
	g_free(row->sender);
	g_free(row);
}

static void outbox_item_free(gpointer data)
{
	struct storage_outbox_item *item = data;
	if (item == NULL)
		return;
	g_free(item->legacy_name);
	secrets_wipe_free(item->text);
	g_free(item->stanza_id);
	g_free(item->sender);
	g_free(item);
}

gint64 storage_outbox_add(struct storage *storage, const char *jid, const char *legacy_name,
                          const char *text, const char *stanza_id, const char *sender,
                          GError **error)
{
	g_return_val_if_fail(storage != NULL, 0);
	g_return_val_if_fail(jid != NULL, 0);
	g_return_val_if_fail(legacy_name != NULL, 0);
	g_return_val_if_fail(text != NULL, 0);
	g_return_val_if_fail(sender != NULL, 0);
	g_return_val_if_fail(error == NULL || *error == NULL, 0);

	g_autoptr(GBytes) sealed = seal_text(storage, jid, KIND_OUTBOX_TEXT, text, error);
	if (sealed == NULL)
		return 0;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	return storage->backend->outbox_add(storage->backend, jid, legacy_name, sealed, stanza_id,
	                                    sender, now, error);
}

bool storage_outbox_delete(struct storage *storage, gint64 id, GError **error)
{
	g_return_val_if_fail(storage != NULL, false);
	g_return_val_if_fail(error == NULL || *error == NULL, false);
	return storage->backend->outbox_delete(storage->backend, id, error);
}

gint64 storage_outbox_count(struct storage *storage, const char *jid, GError **error)
{
	g_return_val_if_fail(storage != NULL && jid != NULL, -1);
	return storage->backend->outbox_count(storage->backend, jid, error);
}

GPtrArray *storage_outbox_list(struct storage *storage, const char *jid, GError **error)
{
	g_return_val_if_fail(storage != NULL, NULL);
	g_return_val_if_fail(jid != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	g_autoptr(GPtrArray) rows = storage->backend->outbox_list(storage->backend, jid, error);
	if (rows == NULL)
		return NULL;

	GPtrArray *items = g_ptr_array_new_with_free_func(outbox_item_free);
	for (guint i = 0; i < rows->len; i++) {
		struct storage_backend_outbox_row *row = rows->pdata[i];
		g_autoptr(GError) local = NULL;
		char *text = open_text(storage, jid, KIND_OUTBOX_TEXT, row->text, &local);
		if (text == NULL) {
			/* Not the caller's problem to handle, and not to be sent:
			 * the row stays for an administrator to look at. */
			g_warning("outbox of %s: skipping item %" G_GINT64_FORMAT ": %s", jid,
			          row->id, local->message);
			continue;
		}
		struct storage_outbox_item *item = g_new0(struct storage_outbox_item, 1);
		item->id = row->id;
		item->legacy_name = g_steal_pointer(&row->legacy_name);
		item->text = text;
		item->stanza_id = g_steal_pointer(&row->stanza_id);
		item->sender = g_steal_pointer(&row->sender);
		item->created = row->created;
		g_ptr_array_add(items, item);
	}
	return items;
}
