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
#include <sys/mman.h>
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

/* ---- memory for secrets ---------------------------------------------------
 * Whole pages of their own (madvise works on pages), marked MADV_DONTDUMP
 * so no core file or crash dump has them, wiped before they are
 * unmapped. A header before the returned pointer keeps the block's size
 * and whether it is mapped; the live blocks are remembered so that
 * secrets_wipe_free() knows them from g_malloc'd strings.
 *
 * Only long-lived, small material takes such pages (the key, the
 * component secret, opened passwords: a few per user); bulk values (the
 * outbox's texts, see secrets_open_text()) use the ordinary heap, wiped on
 * free, so many queued messages cost no mapping each. If a mapping fails
 * anyway (ENOMEM, vm.max_map_count) the block comes from the heap too,
 * wiped the same way, with one warning: ferry keeps running. */

#define SECURE_HEADER 16
struct secure_header {
	size_t size; /* of the whole block, header included */
	size_t heap; /* 1: g_malloc'd (mapping failed), not mapped */
};
G_STATIC_ASSERT(sizeof(struct secure_header) <= SECURE_HEADER);
static GHashTable *secure_blocks; /* returned pointer -> itself */
G_LOCK_DEFINE_STATIC(secure_blocks);
static gint fail_maps;      /* test hook: secrets_secure_fail_maps() */
static gint warned_no_maps; /* the fallback's warning was given */

void secrets_secure_fail_maps(guint n)
{
	g_atomic_int_set(&fail_maps, (gint)MIN(n, (guint)G_MAXINT));
}

/* SIZE bytes mapped for a secure block, or NULL (errno set). */
static void *map_block(size_t size)
{
	gint left = g_atomic_int_get(&fail_maps);
	if (left > 0 && g_atomic_int_compare_and_exchange(&fail_maps, left, left - 1)) {
		errno = ENOMEM;
		return NULL;
	}
	void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return base == MAP_FAILED ? NULL : base;
}

void *secrets_secure_alloc(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	g_return_val_if_fail(len <= G_MAXSIZE - SECURE_HEADER - page, NULL);
	size_t size = (len + SECURE_HEADER + page - 1) / page * page;
	struct secure_header h = {.size = size};
	void *base = map_block(size);
	if (base != NULL) {
		/* Best effort: a kernel without it still has RLIMIT_CORE 0 and
		 * PR_SET_DUMPABLE 0 (main.c). */
		(void)madvise(base, size, MADV_DONTDUMP);
	} else {
		int err = errno;
		if (g_atomic_int_compare_and_exchange(&warned_no_maps, 0, 1))
			g_warning("secrets: cannot map %zu bytes for a secret (%s): keeping "
			          "secrets in ordinary memory instead (wiped when freed, but not "
			          "kept out of core files); raise vm.max_map_count or the memory "
			          "limit (said once)",
			          size, g_strerror(err));
		h = (struct secure_header){.size = len + SECURE_HEADER, .heap = 1};
		base = g_malloc0(h.size);
	}
	memcpy(base, &h, sizeof h);
	guint8 *p = (guint8 *)base + SECURE_HEADER;
	G_LOCK(secure_blocks);
	if (secure_blocks == NULL)
		secure_blocks = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_hash_table_add(secure_blocks, p);
	G_UNLOCK(secure_blocks);
	return p;
}

/* Whether P came from secrets_secure_alloc() (and forgets it if so). */
static bool secure_forget(void *p)
{
	G_LOCK(secure_blocks);
	bool found = secure_blocks != NULL && g_hash_table_remove(secure_blocks, p);
	G_UNLOCK(secure_blocks);
	return found;
}

static void secure_unmap(void *p)
{
	guint8 *base = (guint8 *)p - SECURE_HEADER;
	struct secure_header h;
	memcpy(&h, base, sizeof h);
	OPENSSL_cleanse(base, h.size);
	if (h.heap)
		g_free(base);
	else
		munmap(base, h.size);
}

void secrets_secure_free(void *p)
{
	if (p == NULL)
		return;
	if (!secure_forget(p)) {
		g_critical("secrets_secure_free: %p is not a secure block", p);
		return;
	}
	secure_unmap(p);
}

bool secrets_secure_mapped(const void *p)
{
	if (!secrets_secure_is(p))
		return false;
	struct secure_header h;
	memcpy(&h, (const guint8 *)p - SECURE_HEADER, sizeof h);
	return !h.heap;
}

bool secrets_secure_is(const void *p)
{
	G_LOCK(secure_blocks);
	bool found = p != NULL && secure_blocks != NULL && g_hash_table_contains(secure_blocks, p);
	G_UNLOCK(secure_blocks);
	return found;
}

char *secrets_secure_strdup(const char *text)
{
	if (text == NULL)
		return NULL;
	size_t len = strlen(text);
	char *copy = secrets_secure_alloc(len + 1);
	memcpy(copy, text, len + 1);
	return copy;
}

static struct secrets *secrets_alloc(void)
{
	struct secrets *s = secrets_secure_alloc(sizeof *s);
	memset(s, 0, sizeof *s);
	return s;
}

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

/* Creates KEY_FILE (BASE in directory DFD) with a fresh random key.
 * O_EXCL makes creation atomic with respect to another ferry starting at
 * the same time: exactly one of them creates the file (the other gets
 * EEXIST and reads it instead), and O_NOFOLLOW refuses a planted symlink.
 * Returns false with errno-based ERROR; sets *EXISTS when the file
 * appeared meanwhile, which is not an error. */
static bool create_key_file(int dfd, const char *base, const char *key_file, bool *exists,
                            GError **error)
{
	guint8 key[SECRETS_KEY_BYTES];
	*exists = false;

	int fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int err = errno;
		if (err == EEXIST) {
			*exists = true;
			return false;
		}
		g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
		            "%s: cannot create the key file: %s", key_file, g_strerror(err));
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
		unlinkat(dfd, base, 0);
		g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
		            "%s: cannot create the key file: cannot %s: %s", key_file, failed, why);
		return false;
	}

	/* Make the new directory entry durable too, or a crash could lose the
	 * key after values were sealed with it. Best effort. */
	(void)fsync(dfd);
	return true;
}

/* Reads exactly SECRETS_KEY_BYTES from FD (KEY_FILE, opened) into KEY
 * after checking, on the open file itself (no race with a rename or a
 * chmod between a check and the open), that it is a regular file of
 * ferry's own user that no one else may read or write. */
static bool read_key_fd(int fd, const char *key_file, guint8 key[SECRETS_KEY_BYTES], GError **error)
{
	bool ok = false;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int err = errno;
		g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
		            "%s: cannot stat the key file: %s", key_file, g_strerror(err));
	} else if (!S_ISREG(st.st_mode)) {
		g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
		            "%s: the key file is not a regular file", key_file);
	} else if (st.st_uid != geteuid()) {
		g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
		            "%s: the key file belongs to uid %u, not to ferry's user (uid %u), "
		            "who alone may hold it; run: chown %u %s",
		            key_file, (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)geteuid(),
		            key_file);
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
	return ok;
}

/* The key file's directory, open, after checking no one but its owner
 * may write it (whoever may could put another key, or a link, in its
 * place). -1 with ERROR; ENOENT is KEY_MISSING unless CREATE. */
static int open_key_dir(const char *key_file, bool create, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(key_file);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		int err = errno;
		if (err == ENOENT && !create)
			g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_MISSING,
			            "%s: the key file is missing", key_file);
		else
			g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
			            "%s: cannot create the key file: %s%s", key_file,
			            g_strerror(err),
			            err == ENOENT ? " (create its directory first)" : "");
		return -1;
	}
	struct stat st;
	if (fstat(dfd, &st) != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
		            "%s: the key file's directory %s may be written by group or others "
		            "(mode %04o), who could replace the key; keep the key in a directory "
		            "only ferry's user writes (chmod go-w %s, or move the key)",
		            key_file, dir, (unsigned)(st.st_mode & 07777), dir);
		close(dfd);
		return -1;
	}
	return dfd;
}

struct secrets *secrets_open(const char *key_file, bool create, GError **error)
{
	g_return_val_if_fail(key_file != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	int dfd = open_key_dir(key_file, create, error);
	if (dfd < 0)
		return NULL;
	g_autofree char *base = g_path_get_basename(key_file);
	/* O_NOFOLLOW: a symlink in the key's place is refused, not followed;
	 * O_NONBLOCK: opening a FIFO put there must not hang. Open first and
	 * check what was opened: nothing can be swapped in between. */
	int fd = -1;
	for (int attempt = 0; fd < 0 && attempt < 2; attempt++) {
		fd = openat(dfd, base, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
		if (fd >= 0 || errno != ENOENT)
			break;
		if (!create) {
			g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_MISSING,
			            "%s: the key file is missing", key_file);
			close(dfd);
			return NULL;
		}
		bool exists;
		if (!create_key_file(dfd, base, key_file, &exists, error) && !exists) {
			close(dfd);
			return NULL;
		}
	}
	if (fd < 0) {
		int err = errno;
		if (err == ELOOP)
			g_set_error(
			    error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
			    "%s: the key file is a symbolic link, which ferry does not follow "
			    "(anyone who can change the link could give it another key): put "
			    "the file itself there",
			    key_file);
		else
			g_set_error(error, SECRETS_ERROR, SECRETS_ERROR_KEY_FILE,
			            "%s: cannot open the key file: %s", key_file, g_strerror(err));
		close(dfd);
		return NULL;
	}
	close(dfd);

	struct secrets *secrets = secrets_alloc();
	secrets->key_file = g_strdup(key_file);
	bool ok = read_key_fd(fd, key_file, secrets->key, error);
	close(fd);
	if (!ok) {
		secrets_free(secrets);
		return NULL;
	}
	return secrets;
}

struct secrets *secrets_new_from_key(const guint8 key[SECRETS_KEY_BYTES])
{
	g_return_val_if_fail(key != NULL, NULL);

	struct secrets *secrets = secrets_alloc();
	memcpy(secrets->key, key, SECRETS_KEY_BYTES);
	return secrets;
}

void secrets_free(struct secrets *secrets)
{
	if (secrets == NULL)
		return;
	g_free(secrets->key_file);
	secrets_secure_free(secrets); /* wipes the key */
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

/* A buffer for LEN bytes of plaintext: secure pages, or (BULK) the heap. */
static char *plain_alloc(size_t len, bool bulk)
{
	return bulk ? g_malloc0(len) : secrets_secure_alloc(len);
}

static void plain_free(char *plain, size_t len, bool bulk)
{
	if (!bulk) {
		secrets_secure_free(plain);
		return;
	}
	OPENSSL_cleanse(plain, len);
	g_free(plain);
}

static char *open_string(const struct secrets *secrets, const char *owner, GBytes *sealed,
                         bool bulk, GError **error)
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
	char *plain = plain_alloc(len + 1, bulk);

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
		plain_free(plain, len + 1, bulk);
		set_decrypt_error(error, owner,
		                  "authentication failed (tampered, another owner's, or "
		                  "sealed with another key)");
		return NULL;
	}
	/* Authentic, but a string cannot carry a NUL: refuse rather than
	 * return a silently shortened value. */
	if (memchr(plain, '\0', len) != NULL) {
		plain_free(plain, len + 1, bulk);
		set_decrypt_error(error, owner, "it is not a string (contains a NUL byte)");
		return NULL;
	}
	plain[len] = '\0';
	return plain;
}

char *secrets_open_string(const struct secrets *secrets, const char *owner, GBytes *sealed,
                          GError **error)
{
	return open_string(secrets, owner, sealed, false, error);
}

char *secrets_open_text(const struct secrets *secrets, const char *owner, GBytes *sealed,
                        GError **error)
{
	return open_string(secrets, owner, sealed, true, error);
}

void secrets_wipe_free(char *text)
{
	if (text == NULL)
		return;
	if (secure_forget(text)) {
		secure_unmap(text);
		return;
	}
	OPENSSL_cleanse(text, strlen(text));
	g_free(text);
}
