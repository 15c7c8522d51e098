/* storage: what ferry keeps between runs — registered users and their legacy
 * settings, their legacy contacts, and the outbox of messages not yet taken
 * by the legacy side.
 *
 * The public functions are backend-neutral: they seal secrets (passwords,
 * outbox text) with struct secrets before handing rows to the backend, and
 * open them on the way out, so no backend ever sees a secret in clear. The
 * SQLite backend is the default; a PostgreSQL one can implement the same
 * internal interface (src/storage/backend.h) later.
 *
 * JIDs passed in are bare and already normalized (lower-case domain); every
 * function is synchronous. Errors come back as GError (domain
 * STORAGE_ERROR or SECRETS_ERROR) and are never fatal to the process.
 */
#ifndef FERRY_STORAGE_H
#define FERRY_STORAGE_H

#include <glib.h>
#include <stdbool.h>

#include "ferry/secrets.h"

#define STORAGE_ERROR (storage_error_quark())
GQuark storage_error_quark(void);

enum storage_error_code {
	STORAGE_ERROR_OPEN,    /* cannot open or migrate the database */
	STORAGE_ERROR_IO,      /* a statement failed */
	STORAGE_ERROR_VERSION, /* the schema is newer than this ferry */
	STORAGE_ERROR_NO_USER, /* a write for a JID that is not registered */
	STORAGE_ERROR_KEY,     /* the key is not the one the database was made with */
	STORAGE_ERROR_LOCKED,  /* another process holds the database's lock */
};

struct storage;

struct storage_user {
	char *jid;            /* bare JID of the XMPP user */
	GHashTable *settings; /* form field -> value (no password); owned */
	char *password;       /* opened; "" when none; wipe with secrets_wipe_free */
};

enum storage_contact_flags {
	STORAGE_CONTACT_SUBSCRIBE_SENT = 1 << 0, /* we asked the user to add it, once */
	STORAGE_CONTACT_IN_ROSTER = 1 << 1,      /* pushed with XEP-0356 */
};

struct storage_contact {
	char *legacy_name; /* the name as the legacy network spells it */
	guint flags;       /* enum storage_contact_flags */
};

struct storage_outbox_item {
	gint64 id;
	char *legacy_name; /* recipient */
	char *text;        /* opened; wipe with secrets_wipe_free */
	char *stanza_id;   /* the XMPP message id, for an error reply; may be NULL */
	char *sender;      /* full JID that sent it, for an error reply */
	gint64 created;    /* unix time */
};

/* Opens (creating if needed) the SQLite database at PATH, in WAL mode, and
 * migrates its schema to the current version. SECRETS is borrowed and must
 * outlive the storage.
 *
 * The database knows its key: a check value sealed with it, written when
 * the database is new, or, for a database from before the check, at the
 * first open whose key opens its sealed values (passwords, outbox text).
 * A key that does not open the check value, or none of the sealed values,
 * is STORAGE_ERROR_KEY, with a message naming the key file and the fix. */
struct storage *storage_open_sqlite(const char *path, struct secrets *secrets, GError **error);

/* The key check storage_open_sqlite() makes, on the database at PATH as it
 * is, read only (nothing written, no migration): STORAGE_ERROR_KEY as
 * there; STORAGE_ERROR_VERSION when the schema is not the current one (the
 * start would migrate or refuse it first); STORAGE_ERROR_OPEN when it
 * cannot be read. For --check-config. */
bool storage_check_key_sqlite(const char *path, struct secrets *secrets, GError **error);

/* One ferry per database: an exclusive flock on PATH.lock (created 0600,
 * never removed; the holder's pid written in it). The kernel releases it
 * when the process ends, a crash or SIGKILL included, and no child
 * inherits it. Taken before the key is read or made and held for the
 * process's life; STORAGE_ERROR_LOCKED (naming the database and the
 * holder's pid) while another process holds it. */
struct storage_lock;
struct storage_lock *storage_lock(const char *path, GError **error);
/* Releases the lock. NULL is a no-op. */
void storage_lock_free(struct storage_lock *lock);
void storage_free(struct storage *storage);

/* The schema version the database is at. */
int storage_schema_version(struct storage *storage);

/* Inserts or replaces a user (settings and password). */
bool storage_user_put(struct storage *storage, const char *jid, GHashTable *settings,
                      const char *password, GError **error);
/* NULL with no error when JID is not registered. */
struct storage_user *storage_user_get(struct storage *storage, const char *jid, GError **error);
/* The user's settings only (the password stays sealed): for checks that
 * need no credentials. NULL with no error when JID is not registered. */
GHashTable *storage_user_settings(struct storage *storage, const char *jid, GError **error);
/* Deletes the user with their contacts and outbox. true on success, also
 * when nothing was there. */
bool storage_user_delete(struct storage *storage, const char *jid, GError **error);
/* Bare JIDs of every registered user (char *, in byte order), or NULL on
 * error. */
GPtrArray *storage_user_list(struct storage *storage, GError **error);
void storage_user_free(struct storage_user *user);

/* Inserts or updates a contact of JID (keyed by the exact, case-sensitive
 * legacy name). STORAGE_ERROR_NO_USER if JID is not registered. */
bool storage_contact_put(struct storage *storage, const char *jid, const char *legacy_name,
                         guint flags, GError **error);
bool storage_contact_delete(struct storage *storage, const char *jid, const char *legacy_name,
                            GError **error);
/* struct storage_contact * elements (freed with the array), by legacy name
 * in byte order, or NULL on error. */
GPtrArray *storage_contact_list(struct storage *storage, const char *jid, GError **error);

/* Contact addresses, for every user: the localpart (as the server folds
 * it) given to a legacy name that does not keep its plain XEP-0106 form,
 * and the exact name (any bytes but NUL), so that the address stays the
 * same across restarts and is read back. get: *LEGACY_NAME (caller frees)
 * is NULL when LOCALPART stands for no name. put: fails when LOCALPART
 * has a name already. */
bool storage_address_get(struct storage *storage, const char *localpart, char **legacy_name,
                         GError **error);
bool storage_address_put(struct storage *storage, const char *localpart, const char *legacy_name,
                         GError **error);

/* Queues TEXT for LEGACY_NAME; returns the item id (never reused), or 0 on
 * error (STORAGE_ERROR_NO_USER if JID is not registered). */
gint64 storage_outbox_add(struct storage *storage, const char *jid, const char *legacy_name,
                          const char *text, const char *stanza_id, const char *sender,
                          GError **error);
bool storage_outbox_delete(struct storage *storage, gint64 id, GError **error);
/* How many items JID has queued (0 for an unknown user), or -1 on error:
 * for the per-user bound ([limits] max_outbox). */
gint64 storage_outbox_count(struct storage *storage, const char *jid, GError **error);
/* struct storage_outbox_item * elements, oldest first (freed with the
 * array), or NULL on error. An item that fails to open is reported in the
 * log and skipped: left in place, never used. */
GPtrArray *storage_outbox_list(struct storage *storage, const char *jid, GError **error);

#endif
