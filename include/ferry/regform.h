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
 * The form shows what a user needs, not every libpurple option: the
 * username, the password (IRC: labelled as the server password, or the SASL
 * one), the user splits that are not locked, the options that go with an
 * open server split (IRC: port, ssl; locking the server hides them too),
 * and a short per-protocol list of essentials (IRC: sasl, saslname). Any
 * other option is shown only when [legacy] `ferry.fields` lists it (by
 * field name); one the form does not show takes its preset or default,
 * like a locked one. A protocol ferry has no list for shows every option.
 *
 * [legacy] keys: `protocol`, `name`, `locked` and presets by field name,
 * as before; ferry's own newer keys are written `ferry.<name>` (today
 * `ferry.fields`), a name no protocol field can have: an account option
 * whose key contains a '.' is left out of the form (logged), and a dotted
 * [legacy] key other than a known ferry.<name> is an error.
 *
 * Settings (what is stored per user) are field -> text value, password
 * excluded; booleans are "true"/"false".
 *
 * The XEP-0004 side goes through dataform: the <x/> is written by
 * dataform_add_to() and submissions are checked by dataform_check(), legacy
 * <username/>/<password/> included. So integer option fields carry an
 * XEP-0122 <validate datatype='xs:integer'/> with the range G_MININT32 to
 * G_MAXINT32 (the one difference from the form written by hand before),
 * and a control character (TAB and newline included) in any field, the
 * username and password included, is refused; the password is otherwise
 * kept byte for byte.
 */
#ifndef FERRY_REGFORM_H
#define FERRY_REGFORM_H

#include <glib.h>
#include <stdbool.h>

#include "ferry/settings.h"
#include "ferry/stanza.h"
#include "ferry/worker_describe.h"

struct regform;
struct settings;

#define REGFORM_ERROR (regform_error_quark())
GQuark regform_error_quark(void);

enum regform_error_code {
	REGFORM_ERROR_CONFIG,     /* a [legacy] preset or lock does not fit the form */
	REGFORM_ERROR_SUBMISSION, /* a submission is refused; the message is for the user */
};

/* DESCRIBE is the worker's description of the protocol (borrowed). PRESETS
 * (field -> value) and LOCKED come from [legacy]; a preset for an unknown
 * field or with a value of the wrong type is an error (REGFORM_ERROR_CONFIG)
 * naming it. Presets and defaults are checked and normalized as submitted
 * values are. Caller frees with regform_free(). */
struct regform *regform_new(const struct worker_description *describe, GHashTable *presets,
                            char **locked, GError **error);
/* NULL is a no-op. */
void regform_free(struct regform *form);

/* The legacy servers users may choose (include/ferry/netpolicy.h): [legacy]
 * ferry.allowed_servers, else the presets (or defaults) of the protocol's
 * server fields (IRC server; XMPP domain, connect_server). A submission
 * naming another is refused (regform_parse); the workers get this list
 * and refuse internal addresses not in it. Borrowed, NULL-terminated. */
const char *const *regform_allowed_servers(const struct regform *form);

/* Whether users may type a server (the field is in the form) while no
 * ferry.allowed_servers list says which: --check-config refuses that. */
bool regform_server_open(const struct regform *form);

/* The check regform_new() makes of SETTINGS' [legacy] keys (presets,
 * locked, ferry.<name> keys) against DESCRIBE, without a gateway: for
 * --check-config. false with REGFORM_ERROR_CONFIG naming the key. */
bool regform_check_presets(const struct settings *settings,
                           const struct worker_description *describe, GError **error);

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

/* Reads a submission (an XEP-0004 form of type submit, which wins, or
 * legacy <username/>/<password/>) from QUERY and checks it against the form.
 * On success sets *SETTINGS (new table, caller unrefs; locked fields and
 * defaults applied) and *PASSWORD (caller wipes with secrets_wipe_free; ""
 * when none was given and none is required). On failure returns false with
 * REGFORM_ERROR_SUBMISSION and a text for the user naming the field. */
bool regform_parse(const struct regform *form, const struct stanza *query, GHashTable **settings,
                   char **password, GError **error);

struct dataform; /* ferry/dataform.h */
/* The form regform_fill_query() puts in the iq, as a stage of the
 * register command: VALUES prefilled (NULL: defaults), the password never;
 * with KEEP_PASSWORD (a registered user) the password is optional. Caller
 * frees. */
struct dataform *regform_dataform(const struct regform *form, GHashTable *values,
                                  bool keep_password);
/* As regform_parse(), from CHECKED, a submission dataform_check() made of
 * the answer to regform_dataform(): *SETTINGS and *PASSWORD (NULL with
 * KEEP_PASSWORD when it was left empty: the stored one stays). */
bool regform_read(const struct regform *form, const struct dataform *checked, bool keep_password,
                  GHashTable **settings, char **password, GError **error);

/* The check, before a login, of what goes to the worker: every value of
 * SETTINGS (stored at some registration) as the form would use it, and
 * PASSWORD (NULL: not checked), must be one line without control
 * characters (dataform_value_is_single_line()), whatever the field's
 * type: a line break would end the legacy protocol's command early (an
 * IRC realname becoming a raw command). Registration refuses such values
 * already; this is the second line of defence for a database written by
 * an older ferry or by hand. false with REGFORM_ERROR_SUBMISSION naming
 * the field (never the value). */
bool regform_check_login(const struct regform *form, GHashTable *settings, const char *password,
                         GError **error);

/* The legacy account name: username joined with each split's value
 * ("nick" + "@" + "irc.example.org"). Caller frees. */
char *regform_legacy_username(const struct regform *form, GHashTable *settings);

/* The account options for the worker (option key -> value), from SETTINGS
 * with locks applied. Caller unrefs. */
GHashTable *regform_account_options(const struct regform *form, GHashTable *settings);

#endif
