/* secrets: encryption of credentials and queued message text at rest.
 *
 * AES-256-GCM (OpenSSL EVP) with a random 96-bit nonce per value and the
 * owner's bare JID as additional authenticated data, so a value copied into
 * another user's row does not decrypt. A sealed value is
 *   version (1 byte, 0x01) | nonce (12) | ciphertext | tag (16).
 * The 32-byte key lives in its own file, outside the database.
 */
#ifndef FERRY_SECRETS_H
#define FERRY_SECRETS_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define SECRETS_KEY_BYTES 32

#define SECRETS_ERROR (secrets_error_quark())
GQuark secrets_error_quark(void);

enum secrets_error_code {
	SECRETS_ERROR_KEY_FILE,    /* missing, unreadable, wrong size, or too open */
	SECRETS_ERROR_DECRYPT,     /* tampered, truncated, another owner's, or another key */
	SECRETS_ERROR_KEY_MISSING, /* no key file, and not asked to create one */
};

struct secrets;

/* Loads the key from KEY_FILE. When it does not exist: creates it (mode
 * 0600, random key) if CREATE, which only a new database may ask (a new key
 * opens nothing an old one sealed), else SECRETS_ERROR_KEY_MISSING. Refuses
 * a file that group or others may read, or that is not exactly 32 bytes. */
struct secrets *secrets_open(const char *key_file, bool create, GError **error);

/* For tests: a key given directly. */
struct secrets *secrets_new_from_key(const guint8 key[SECRETS_KEY_BYTES]);

/* The key file the key came from, for messages; NULL for a key given
 * directly. Borrowed. */
const char *secrets_key_file(const struct secrets *secrets);

/* Wipes the key and frees. NULL is a no-op. */
void secrets_free(struct secrets *secrets);

/* Seals LEN bytes of PLAIN for OWNER (a bare JID). Caller owns the result;
 * NULL (logged) only if OpenSSL itself fails (no randomness). */
GBytes *secrets_seal(const struct secrets *secrets, const char *owner, const void *plain,
                     size_t len);

/* Opens a sealed value for OWNER as a NUL-terminated string; NULL with
 * ERROR (SECRETS_ERROR_DECRYPT) if it fails authentication or is malformed.
 * The result is in secure memory (secrets_secure_alloc); the caller frees
 * it with secrets_wipe_free(). */
char *secrets_open_string(const struct secrets *secrets, const char *owner, GBytes *sealed,
                          GError **error);

/* The same for bulk values (queued message text): the result is on the
 * ordinary heap (no mapping per value), wiped by secrets_wipe_free(). */
char *secrets_open_text(const struct secrets *secrets, const char *owner, GBytes *sealed,
                        GError **error);

/* Overwrites a string with zeros and frees it: one of
 * secrets_secure_strdup()'s or secrets_open_string()'s, or a g_malloc'd
 * one. NULL is a no-op. */
void secrets_wipe_free(char *text);

/* Memory for secrets (the key, the component secret, opened passwords):
 * pages of their own marked MADV_DONTDUMP (left out of core files), zeroed
 * when allocated and wiped when freed. If mapping fails (ENOMEM,
 * vm.max_map_count), the ordinary heap, wiped the same way, and one
 * warning; aborts only when that is out of memory too, like g_malloc.
 * Free with secrets_secure_free() (strings also with secrets_wipe_free()). */
void *secrets_secure_alloc(size_t len);
void secrets_secure_free(void *p);
char *secrets_secure_strdup(const char *text);
/* Whether P is a live block of secrets_secure_alloc() (for tests), and
 * one in pages of its own (not the heap fallback). */
bool secrets_secure_is(const void *p);
bool secrets_secure_mapped(const void *p);
/* Test hook: the next N mappings of secrets_secure_alloc() fail. */
void secrets_secure_fail_maps(guint n);

#endif
