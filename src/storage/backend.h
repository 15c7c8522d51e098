/* backend: the internal interface between storage.c (backend-neutral, owns
 * the sealing) and a database backend (sqlite.c today; PostgreSQL later).
 *
 * A backend only ever sees secrets sealed: passwords and outbox text come
 * in and go out as GBytes produced by secrets_seal(). Everything else
 * (JIDs, settings, legacy names, flags) is plain. Each backend embeds
 * struct storage_backend as the first member of its own state, fills in
 * every operation, and casts back inside them.
 *
 * Conventions for every operation: JIDs are bare and normalized; errors are
 * STORAGE_ERROR; an operation on a JID that is not registered is
 * STORAGE_ERROR_NO_USER for writes and an empty result for reads.
 */
#ifndef FERRY_STORAGE_BACKEND_H
#define FERRY_STORAGE_BACKEND_H

#include <glib.h>
#include <stdbool.h>

#include "ferry/storage.h"

/* An outbox row as stored: the text still sealed. */
struct storage_backend_outbox_row {
	gint64 id;         /* increasing in insertion order; never reused */
	char *legacy_name; /* recipient, exact legacy spelling */
	GBytes *text;      /* sealed for the owner */
	char *stanza_id;   /* may be NULL */
	char *sender;      /* full JID */
	gint64 created;    /* unix time */
};

/* A sealed value as stored, for the key check (storage.c). */
enum storage_sealed_column {
	STORAGE_SEALED_PASSWORD,    /* a user's password */
	STORAGE_SEALED_OUTBOX_TEXT, /* a queued message's text */
};

struct storage_backend_sealed {
	char *jid; /* the owner */
	enum storage_sealed_column column;
	GBytes *value;
};

struct storage_backend {
	/* Closes the database and frees the backend. */
	void (*free)(struct storage_backend *backend);

	/* The schema version the database is at. */
	int (*schema_version)(struct storage_backend *backend);

	/* Inserts the user, or updates an existing one in place (keeping its
	 * contacts and outbox): PASSWORD (sealed; NULL for none) and the whole
	 * set of SETTINGS (may be NULL for none), atomically. */
	bool (*user_put)(struct storage_backend *backend, const char *jid, GHashTable *settings,
	                 GBytes *password, GError **error);

	/* false on error. Otherwise true, with *FOUND telling whether the user
	 * exists and, if so, *SETTINGS (caller owns; string -> string) and
	 * *PASSWORD (caller owns; NULL for none). */
	bool (*user_get)(struct storage_backend *backend, const char *jid, bool *found,
	                 GHashTable **settings, GBytes **password, GError **error);

	/* Deletes the user and, by cascade, their settings, contacts and
	 * outbox. Deleting an unknown user succeeds. */
	bool (*user_delete)(struct storage_backend *backend, const char *jid, GError **error);

	/* Bare JIDs (char *, owned by the array), in byte order. */
	GPtrArray *(*user_list)(struct storage_backend *backend, GError **error);

	bool (*contact_put)(struct storage_backend *backend, const char *jid,
	                    const char *legacy_name, guint flags, GError **error);
	/* Deleting an unknown contact succeeds. */
	bool (*contact_delete)(struct storage_backend *backend, const char *jid,
	                       const char *legacy_name, GError **error);
	/* struct storage_contact * (freed with the array, see
	 * storage_backend_contact_free()), by legacy name in byte order. */
	GPtrArray *(*contact_list)(struct storage_backend *backend, const char *jid,
	                           GError **error);

	/* Returns the new row's id (> 0), or 0 on error. TEXT is sealed. */
	gint64 (*outbox_add)(struct storage_backend *backend, const char *jid,
	                     const char *legacy_name, GBytes *text, const char *stanza_id,
	                     const char *sender, gint64 created, GError **error);
	/* Deleting an unknown id succeeds. */
	bool (*outbox_delete)(struct storage_backend *backend, gint64 id, GError **error);
	/* struct storage_backend_outbox_row * (freed with the array, see
	 * storage_backend_outbox_row_free()), oldest first. */
	GPtrArray *(*outbox_list)(struct storage_backend *backend, const char *jid, GError **error);
	/* The number of JID's rows (0 for an unknown user), or -1 on error. */
	gint64 (*outbox_count)(struct storage_backend *backend, const char *jid, GError **error);

	/* Facts about the database (the key check value): *VALUE is NULL
	 * when KEY has none. */
	bool (*meta_get)(struct storage_backend *backend, const char *key, GBytes **value,
	                 GError **error);
	bool (*meta_put)(struct storage_backend *backend, const char *key, GBytes *value,
	                 GError **error);
	/* Every sealed value (struct storage_backend_sealed *, freed with the
	 * array, see storage_backend_sealed_free()), in no particular order. */
	GPtrArray *(*sealed_list)(struct storage_backend *backend, GError **error);

	/* Contact addresses (storage_address_get/put): *LEGACY_NAME is NULL
	 * when LOCALPART has none; putting a LOCALPART that has one fails. */
	bool (*address_get)(struct storage_backend *backend, const char *localpart,
	                    char **legacy_name, GError **error);
	bool (*address_put)(struct storage_backend *backend, const char *localpart,
	                    const char *legacy_name, GError **error);
};

/* The SQLite backend (sqlite.c): opens or creates the database file at
 * PATH (created mode 0600) and migrates it. STORAGE_ERROR_VERSION when
 * the database is newer than this code. */
struct storage_backend *storage_backend_sqlite_open(const char *path, GError **error);

/* The same database read only, as it is: no file created, no WAL switch,
 * no migration (a schema other than the current one is
 * STORAGE_ERROR_VERSION). Writes fail. For --check-config. */
struct storage_backend *storage_backend_sqlite_open_readonly(const char *path, GError **error);

/* Element destructors for the arrays backends return (storage.c). */
void storage_backend_contact_free(gpointer contact);
void storage_backend_outbox_row_free(gpointer row);
void storage_backend_sealed_free(gpointer row);

#endif
