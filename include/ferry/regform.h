/* regform: the registration form of the transport, built from what the
 * legacy protocol needs (`ferry-worker --describe`) and the admin's
 * [legacy] presets and locks.
 *
 * Fields: `username`; `password` (unless the protocol takes none); one per
 * user split, named by its label in lower case with spaces as '_' (IRC:
 * `server`); one per account option, named by its setting key (IRC: `port`,
 * `ssl`, ...), or `option_<key>` when the key would clash with another field
 * (IRC's ident option `username` becomes `option_username`). Presets
 * replace defaults; locked fields are left out of the form and always take
 * the preset.
 *
 * Settings (what is stored per user) are field -> text value, password
 * excluded; booleans are "true"/"false".
 */
#ifndef FERRY_REGFORM_H
#define FERRY_REGFORM_H

#include <glib.h>
#include <stdbool.h>

#include "ferry/stanza.h"

struct regform;

#define REGFORM_ERROR (regform_error_quark())
GQuark regform_error_quark(void);

/* DESCRIBE is the worker's description (WORKER_DESCRIBE_TYPE). PRESETS
 * (field -> value) and LOCKED come from [legacy]; a preset for an unknown
 * field or with a value of the wrong type is an error naming it. */
struct regform *regform_new(GVariant *describe, GHashTable *presets, char **locked, GError **error);
void regform_free(struct regform *form);

/* The protocol's id and human name ("IRC"). Borrowed. */
const char *regform_protocol(const struct regform *form);
const char *regform_protocol_name(const struct regform *form);

/* true when the protocol accepts an empty password. */
bool regform_password_optional(const struct regform *form);

/* Appends to QUERY (a jabber:iq:register query) the instructions, the
 * legacy <username/> and <password/> fields, and the XEP-0004 form, with
 * VALUES (stored settings; NULL: defaults) prefilled. The password value is
 * never included. */
void regform_fill_query(const struct regform *form, struct stanza *query, GHashTable *values);

/* Reads a submission (an XEP-0004 form, which wins, or legacy
 * <username/>/<password/>) from QUERY. On success sets *SETTINGS (new
 * table, locked fields and defaults applied) and *PASSWORD (caller wipes
 * with secrets_wipe_free). On failure returns false with a text for the
 * user naming the field in *ERROR_TEXT. */
bool regform_parse(const struct regform *form, const struct stanza *query, GHashTable **settings,
                   char **password, char **error_text);

/* The legacy account name: username joined with each split's value
 * ("nick" + "@" + "irc.example.org"). Caller frees. */
char *regform_legacy_username(const struct regform *form, GHashTable *settings);

/* The account options for the worker (option key -> value), from SETTINGS
 * with locks applied. Caller unrefs. */
GHashTable *regform_account_options(const struct regform *form, GHashTable *settings);

#endif
