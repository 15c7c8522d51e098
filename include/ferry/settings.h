/* settings: ferry's INI configuration, read with GKeyFile and validated once
 * at start. Every error names the file, the group and the key.
 *
 * struct settings is a read-only value object after settings_load(): its
 * fields are public so that modules can take what they need at wiring time
 * in main.c; nothing writes to it afterwards.
 */
#ifndef FERRY_SETTINGS_H
#define FERRY_SETTINGS_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define SETTINGS_ERROR (settings_error_quark())
GQuark settings_error_quark(void);

enum settings_error_code {
	SETTINGS_ERROR_FILE,    /* unreadable or not an INI file */
	SETTINGS_ERROR_MISSING, /* a required key is absent */
	SETTINGS_ERROR_INVALID, /* a value is of the wrong type or out of range */
	SETTINGS_ERROR_UNKNOWN, /* a group or key ferry does not know */
};

enum settings_log_level {
	SETTINGS_LOG_ERROR,
	SETTINGS_LOG_WARNING,
	SETTINGS_LOG_MESSAGE,
	SETTINGS_LOG_INFO,
	SETTINGS_LOG_DEBUG,
};

struct settings {
	char *path; /* the file read, for messages */

	/* [component] */
	char *component_jid;     /* the component's domain, e.g. irc.example.org */
	char *component_host;    /* the XMPP server to connect to */
	guint16 component_port;  /* its component port (default 5347) */
	char *component_secret;  /* shared secret; never logged */
	bool component_tls;      /* Direct TLS from the first byte */
	char *tls_ca_file;       /* CA bundle; NULL: the system store */
	char *tls_server_name;   /* name verified in the certificate and sent as SNI;
	                            NULL: component_host */
	size_t max_stanza_bytes; /* inbound: larger stanzas are skipped and answered */
	guint ping_interval;     /* seconds between XEP-0199 pings to the server */
	size_t queue_high_bytes; /* write queue over it: every account stops reading ... */
	size_t queue_low_bytes;  /* ... until back under it */

	/* inbound: a larger XML token (one tag) closes the stream */
	size_t max_token_bytes;
	/* each stanza ferry writes stays within it */
	size_t max_outbound_bytes;

	/* [legacy] */
	char *legacy_protocol;        /* libpurple protocol id, e.g. prpl-irc */
	char *legacy_name;            /* human name of the transport */
	GHashTable *legacy_overrides; /* other [legacy] keys: field name -> value */
	char **legacy_locked;         /* field names pinned to their configured value */

	/* [workers] */
	char *worker_program;   /* NULL: the default (see settings_worker_program) */
	guint users_per_worker; /* sessions per ferry-worker process */
	guint min_workers;      /* workers kept running with no users (started at once) */
	guint login_rate;       /* legacy logins started per second, at most */
	guint login_burst;      /* ... and at once after a quiet period */
	/* How long a registration's checked login waits for the user's session
	 * (60 000). Not a key of the file: the unit tests shorten it. */
	guint kept_login_ms;
	char *legacy_ca_file; /* extra CA (PEM) trusted for legacy TLS; NULL: none */
	/* The user the workers run as when ferry runs as root; NULL: unset
	 * (then "ferry-worker" as root; as any other user the workers run as
	 * ferry's own user, confined by Landlock). */
	char *worker_user;

	/* a message taking more lines on a line-based network (IRC) is refused */
	guint max_message_lines;

	/* one account's stanzas waiting for the server over it: it stops reading */
	size_t account_queue_bytes;
	/* an account stopped longer (seconds) is logged out with a notice; 0: never */
	guint stall_seconds;

	/* [storage] */
	char *database; /* SQLite file */
	char *key_file; /* 32-byte secret key for credentials at rest */

	/* [access] */
	char **allowed_domains; /* bare domains whose users may use ferry */
	char **admins;          /* bare JIDs with admin rights */

	/* [logging] */
	enum settings_log_level log_level;

	/* [limits], per user */
	guint max_contacts;             /* contacts stored (in the roster) */
	guint max_pending_probes;       /* contacts outside the roster kept in memory */
	guint max_outbox;               /* messages waiting for a login */
	guint registrations_per_minute; /* registration attempts (test logins) */
	/* ... and from all users together (not per user) */
	guint registrations_all_per_minute;
	guint max_rooms;          /* group chats joined at once */
	guint max_room_occupants; /* occupants kept per room (more are not shown) */
	/* a command run (XEP-0050 or chat) idle this long ends (expired) */
	guint command_idle_seconds;
	/* an unanswered libpurple prompt is cancelled after this long */
	guint prompt_seconds;
	/* How long a contact outside the roster stays in memory unused
	 * (600 000). Not a key of the file: the unit tests shorten it. */
	guint contact_idle_ms;
	/* The gateway's bound on a room join (35 000) and how long a room
	 * message's reflection waits for its echo once sent (10 000). Not
	 * keys of the file: the unit tests shorten them. */
	guint room_join_ms;
	guint room_echo_wait_ms;
};

/* Reads and validates PATH. Returns NULL with ERROR set (domain
 * SETTINGS_ERROR, message naming file, group and key) on any problem. */
struct settings *settings_load(const char *path, GError **error);

/* Parses settings from DATA (for tests); PATH is used in messages. */
struct settings *settings_load_data(const char *data, const char *path, GError **error);

void settings_free(struct settings *settings);

/* The gateway identity type (XEP-0030 registry) for the configured
 * protocol: prpl-irc -> irc, prpl-jabber -> xmpp, ... Borrowed/static or
 * owned by settings. */
const char *settings_gateway_type(const struct settings *settings);

/* true when DOMAIN (a bare domain) may use the transport. */
bool settings_domain_allowed(const struct settings *settings, const char *domain);

#endif
