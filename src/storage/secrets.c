/* secrets: AES-256-GCM sealing of credentials and queued text at rest, and
 * the key file that holds the one key (see include/ferry/secrets.h).
 *
 * Nothing here logs or puts plaintext into an error message; every buffer
 * that held plaintext or key bytes is wiped before it is freed.
 */
#include "config.h"
#include "ferry/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define SEALED_VERSION 0x01
#define NONCE_BYTES 12
#define TAG_BYTES 16
#define HEADER_BYTES (1 + NONCE_BYTES)
#define OVERHEAD_BYTES (HEADER_BYTES + TAG_BYTES)

struct secrets {
	guint8 key[SECRETS_KEY_BYTES]; /* wiped by secrets_free() */
	char *key_file;                /* NULL for a key given directly */
};

G_DEFINE_QUARK(ferry-secrets-error-quark, secrets_error);

/* ---- the key file ------------------------------------------------------ */

/* Writes all of BUF to FD, retrying short writes and EINTR. */
static bool write_all(int fd, const guint8 *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Creates KEY_FILE with a fresh random key. O_EXCL makes creation atomic
 * with respect to another ferry starting at the same time: exactly one of
 * them creates the file (the other gets EEXIST and reads it instead).
 * Returns false with errno-based ERROR; sets *EXISTS when the file appeared
 * meanwhile, which is not an error. */
static bool create_key_file(const char *key_file, bool *exists, GError **error)
{
	guint8 key[SECRETS_KEY_BYTES];
	*exists = false;

	int fd = open(key_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int err = errno;
		if (err == EEXIST) {
			*exists = true;
			return false;
		}
		g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
		            "%s: cannot create the key file: %s%s", key_file, g_strerror(err),
		            err == ENOENT ? " (create its directory first)" : "");
		return false;
	}

	const char *failed = NULL;
	const char *why = NULL;
	if (fchmod(fd, 0600) != 0) { /* the umask may only have removed bits; be exact */
		failed = "set its mode";
	} else if (RAND_bytes(key, sizeof key) != 1) {
		failed = "generate a random key";
		why = "OpenSSL has no randomness";
	} else if (!write_all(fd, key, sizeof key)) {
		failed = "write it";
	} else if (fsync(fd) != 0) {
		failed = "sync it";
	}
	if (failed != NULL && why == NULL)
		why = g_strerror(errno);
	OPENSSL_cleanse(key, sizeof key);
	if (close(fd) != 0 && failed == NULL) {
		failed = "close it";
		why = g_strerror(errno);
	}
	if (failed != NULL) {
		/* A half-written key file would be refused on every later start. */
		unlink(key_file);
		g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
		            "%s: cannot create the key file: cannot %s: %s", key_file, failed, why);
		return false;
	}

	/* Make the new directory entry durable too, or a crash could lose the
	 * key after values were sealed with it. Best effort. */
	g_autofree char *dir = g_path_get_dirname(key_file);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return true;
}

/* Reads exactly SECRETS_KEY_BYTES from KEY_FILE into KEY after checking
 * that it is a regular file that only its owner may read or write. */
static bool read_key_file(const char *key_file, guint8 key[SECRETS_KEY_BYTES], GError **error)
{
	/* O_NONBLOCK: opening a FIFO put in place of the key must not hang. */
	int fd = open(key_file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int err = errno;
		g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
		            "%s: cannot open the key file: %s", key_file, g_strerror(err));
		return false;
	}

	bool ok = false;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int err = errno;
		g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
		            "%s: cannot stat the key file: %s", key_file, g_strerror(err));
	} else if (!S_ISREG(st.st_mode)) {
		g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
		            "%s: the key file is not a regular file", key_file);
	} else if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
		            "%s: the key file may be read or written by group or others "
		            "(mode %04o); run: chmod 600 %s",
		            key_file, (unsigned)(st.st_mode & 07777), key_file);
	} else if (st.st_size != SECRETS_KEY_BYTES) {
		g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
		            "%s: the key file is %lld bytes, not %d; restore the original "
		            "file (a new key cannot open what the old one sealed)",
		            key_file, (long long)st.st_size, SECRETS_KEY_BYTES);
	} else {
		size_t got = 0;
		while (got < SECRETS_KEY_BYTES) {
			ssize_t n = read(fd, key + got, SECRETS_KEY_BYTES - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (got == SECRETS_KEY_BYTES) {
			ok = true;
		} else {
			OPENSSL_cleanse(key, SECRETS_KEY_BYTES);
			g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
			            "%s: cannot read the key file", key_file);
		}
	}
	close(fd);
	return ok;
}

struct secrets *secrets_open(const char *key_file, bool create, GError **error)
{
	g_return_val_if_fail(key_file != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	struct stat st;
	if (lstat(key_file, &st) != 0) {
		if (errno != ENOENT) {
			int err = errno;
			g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
			            "%s: cannot stat the key file: %s", key_file, g_strerror(err));
			return NULL;
		}
		if (!create) {
			g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_MISSING,
			            "%s: the key file is missing", key_file);
			return NULL;
		}
		bool exists;
		if (!create_key_file(key_file, &exists, error) && !exists)
			return NULL;
	}

	struct secrets *secrets = g_new0(struct secrets, 1);
	secrets->key_file = g_strdup(key_file);
	if (!read_key_file(key_file, secrets->key, error)) {
		secrets_free(secrets);
		return NULL;
	}
	return secrets;
}

struct secrets *secrets_new_from_key(const guint8 key[SECRETS_KEY_BYTES])
{
	g_return_val_if_fail(key != NULL, NULL);

	struct secrets *secrets = g_new0(struct secrets, 1);
	memcpy(secrets->key, key, SECRETS_KEY_BYTES);
	return secrets;
}

void secrets_free(struct secrets *secrets)
{
	if (secrets == NULL)
		return;
	OPENSSL_cleanse(secrets->key, sizeof secrets->key);
	g_free(secrets->key_file);
	g_free(secrets);
}

const char *secrets_key_file(const struct secrets *secrets)
{
	g_return_val_if_fail(secrets != NULL, NULL);
	return secrets->key_file;
}

/* ---- sealing ----------------------------------------------------------- */

GBytes *secrets_seal(const struct secrets *secrets, const char *owner, const void *plain,
                     size_t len)
{
	g_return_val_if_fail(secrets != NULL, NULL);
	g_return_val_if_fail(owner != NULL, NULL);
	g_return_val_if_fail(plain != NULL || len == 0, NULL);
	g_return_val_if_fail(len <= INT_MAX - OVERHEAD_BYTES, NULL);
	g_return_val_if_fail(strlen(owner) <= INT_MAX, NULL);

	size_t total = OVERHEAD_BYTES + len;
	guint8 *out = g_malloc(total);
	out[0] = SEALED_VERSION;
	guint8 *nonce = out + 1;
	guint8 *ct = out + HEADER_BYTES;
	guint8 *tag = ct + len;

	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0;
	bool ok = ctx != NULL && RAND_bytes(nonce, NONCE_BYTES) == 1 &&
	          EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	          EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
	          EVP_EncryptInit_ex(ctx, NULL, NULL, secrets->key, nonce) == 1 &&
	          EVP_EncryptUpdate(ctx, NULL, &n, (const guint8 *)owner, (int)strlen(owner)) == 1;
	if (ok && len > 0)
		ok = EVP_EncryptUpdate(ctx, ct, &n, plain, (int)len) == 1 && (size_t)n == len;
	if (ok)
		ok = EVP_EncryptFinal_ex(ctx, ct + len, &n) == 1 && n == 0 &&
		     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag) == 1;
	EVP_CIPHER_CTX_free(ctx);

	if (!ok) {
		/* Only an OpenSSL failure (no randomness, no memory) gets here. */
		OPENSSL_cleanse(out, total);
		g_free(out);
		g_warning("cannot seal a value: OpenSSL failed");
		return NULL;
	}
	return g_bytes_new_take(out, total);
}

static void set_decrypt_error(GError **error, const char *owner, const char *why)
{
	g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_DECRYPT,
	            "cannot open a sealed value of %s: %s", owner, why);
}

char *secrets_open_string(const struct secrets *secrets, const char *owner, GBytes *sealed,
                          GError **error)
{
	g_return_val_if_fail(secrets != NULL, NULL);
	g_return_val_if_fail(owner != NULL, NULL);
	g_return_val_if_fail(sealed != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);
	g_return_val_if_fail(strlen(owner) <= INT_MAX, NULL);

	gsize total;
	const guint8 *in = g_bytes_get_data(sealed, &total);
	if (total < OVERHEAD_BYTES) {
		set_decrypt_error(error, owner, "it is truncated");
		return NULL;
	}
	if (total - OVERHEAD_BYTES > INT_MAX) {
		set_decrypt_error(error, owner, "it is too large");
		return NULL;
	}
	if (in[0] != SEALED_VERSION) {
		g_autofree char *why = g_strdup_printf("unknown format version %u", in[0]);
		set_decrypt_error(error, owner, why);
		return NULL;
	}

	const guint8 *nonce = in + 1;
	const guint8 *ct = in + HEADER_BYTES;
	size_t len = total - OVERHEAD_BYTES;
	const guint8 *tag = ct + len;
	char *plain = g_malloc(len + 1);

	/* GCM releases plaintext before the tag is checked: PLAIN is wiped
	 * and dropped unless EVP_DecryptFinal_ex() accepts the tag. */
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0;
	bool ok = ctx != NULL &&
	          EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	          EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_BYTES, NULL) == 1 &&
	          EVP_DecryptInit_ex(ctx, NULL, NULL, secrets->key, nonce) == 1 &&
	          EVP_DecryptUpdate(ctx, NULL, &n, (const guint8 *)owner, (int)strlen(owner)) == 1;
	if (ok && len > 0)
		ok = EVP_DecryptUpdate(ctx, (guint8 *)plain, &n, ct, (int)len) == 1 &&
		     (size_t)n == len;
	guint8 expected_tag[TAG_BYTES]; /* the ctrl API takes a non-const pointer */
	memcpy(expected_tag, tag, TAG_BYTES);
	if (ok)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, expected_tag) == 1 &&
		     EVP_DecryptFinal_ex(ctx, (guint8 *)plain + len, &n) == 1 && n == 0;
	EVP_CIPHER_CTX_free(ctx);

	if (!ok) {
		OPENSSL_cleanse(plain, len + 1);
		g_free(plain);
		set_decrypt_error(error, owner,
		                  "authentication failed (tampered, another owner's, or "
		                  "sealed with another key)");
		return NULL;
	}
	/* Authentic, but a string cannot carry a NUL: refuse rather than
	 * return a silently shortened value. */
	if (memchr(plain, '\0', len) != NULL) {
		OPENSSL_cleanse(plain, len + 1);
		g_free(plain);
		set_decrypt_error(error, owner, "it is not a string (contains a NUL byte)");
		return NULL;
	}
	plain[len] = '\0';
	return plain;
}

void secrets_wipe_free(char *text)
{
	if (text == NULL)
		return;
	OPENSSL_cleanse(text, strlen(text));
	g_free(text);
}
