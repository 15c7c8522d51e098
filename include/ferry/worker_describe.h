/* worker_describe: what `ferry-worker --describe PROTOCOL_ID` tells ferry
 * about a protocol (its name, password rules, user splits and account
 * options), so that ferry can build its registration form without loading
 * libpurple. The worker builds a description and prints it; ferry parses
 * it back. Shared by both programs (GLib only).
 *
 * On the wire it is one GVariant in text form (g_variant_print, type
 * annotations off) of type WORKER_DESCRIBE_TYPE:
 *   (protocol id, protocol name, WORKER_DESCRIBE_* flags,
 *    user splits: [(label, default value, separator)],
 *    account options: [(setting key, kind, label, default value,
 *                       choices: [(label, value)])])
 * kind is "bool", "int", "string" or "list" (a choice among CHOICES);
 * defaults are text ("true"/"false" for bool).
 *
 * struct worker_description is plain data: built with the functions below
 * or by worker_description_parse(), read directly, freed as a whole.
 */
#ifndef FERRY_WORKER_DESCRIBE_H
#define FERRY_WORKER_DESCRIBE_H

#include <glib.h>

#define WORKER_DESCRIBE_TYPE "(ssua(sss)a(ssssa(ss)))"

enum worker_describe_flags {
	WORKER_DESCRIBE_PASSWORD_OPTIONAL = 1 << 0, /* a password may be empty */
	WORKER_DESCRIBE_NO_PASSWORD = 1 << 1,       /* the protocol takes none */
};

enum worker_option_kind {
	WORKER_OPTION_STRING, /* also what an unknown kind is read as */
	WORKER_OPTION_BOOL,
	WORKER_OPTION_INT,
	WORKER_OPTION_LIST,
};

/* A part of the legacy account name after the username ("@" server). */
struct worker_split {
	char *label;     /* "Server" */
	char *def;       /* default value, never NULL */
	char *separator; /* joins it to the name before it: "@" */
};

struct worker_choice {
	char *label; /* shown */
	char *value; /* stored */
};

struct worker_option {
	char *key; /* the account setting ("port") */
	enum worker_option_kind kind;
	char *label;        /* "Port" */
	char *def;          /* default as text, never NULL */
	GPtrArray *choices; /* struct worker_choice * (WORKER_OPTION_LIST) */
};

struct worker_description {
	char *protocol;     /* "prpl-irc" */
	char *name;         /* "IRC" */
	guint32 flags;      /* enum worker_describe_flags */
	GPtrArray *splits;  /* struct worker_split *, in order */
	GPtrArray *options; /* struct worker_option *, in order */
};

/* An empty description. Strings are copied (NULL as ""). */
struct worker_description *worker_description_new(const char *protocol, const char *name,
                                                  guint32 flags);
void worker_description_free(struct worker_description *description);
void worker_description_add_split(struct worker_description *description, const char *label,
                                  const char *def, const char *separator);
/* Returns the option, borrowed, for adding choices. */
struct worker_option *worker_description_add_option(struct worker_description *description,
                                                    const char *key, enum worker_option_kind kind,
                                                    const char *label, const char *def);
void worker_option_add_choice(struct worker_option *option, const char *label, const char *value);

/* The text form (what --describe prints). Caller frees. */
char *worker_description_print(const struct worker_description *description);
/* Reads the text form back; NULL with ERROR (G_VARIANT_PARSE_ERROR) when
 * TEXT is not a description. Caller frees. */
struct worker_description *worker_description_parse(const char *text, GError **error);

#endif
