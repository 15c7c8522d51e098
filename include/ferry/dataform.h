/* dataform: XEP-0004 data forms. Build a form, write it as an <x/>
 * element, parse a form or a submission back, and check a submission
 * against the form it answers, value by value by field type.
 *
 * A form is a list of fields in order; each field has a type, a var
 * (NULL only for fixed fields), a label, a description, a required flag,
 * values, and, for the list types, options (label, value). Integer fields
 * are text-single fields with an XEP-0122 datatype (xs:integer) and a
 * range, written as a <validate/> child.
 *
 * Ownership: a form owns its fields; field pointers are borrowed and live
 * as long as the form. Strings passed in are copied.
 */
#ifndef FERRY_DATAFORM_H
#define FERRY_DATAFORM_H

#include <glib.h>
#include <stdbool.h>

#include "ferry/stanza.h"

#define DATAFORM_ERROR (dataform_error_quark())
GQuark dataform_error_quark(void);

enum dataform_error_code {
	DATAFORM_ERROR_MALFORMED, /* not a well-formed jabber:x:data element */
	DATAFORM_ERROR_REQUIRED,  /* a required field has no value */
	DATAFORM_ERROR_INVALID,   /* a value does not fit its field */
};

enum dataform_type {
	DATAFORM_FORM,
	DATAFORM_SUBMIT,
	DATAFORM_CANCEL,
	DATAFORM_RESULT,
};

enum dataform_field_type {
	DATAFORM_BOOLEAN,
	DATAFORM_FIXED,
	DATAFORM_HIDDEN,
	DATAFORM_JID_MULTI,
	DATAFORM_JID_SINGLE,
	DATAFORM_LIST_MULTI,
	DATAFORM_LIST_SINGLE,
	DATAFORM_TEXT_MULTI,
	DATAFORM_TEXT_PRIVATE,
	DATAFORM_TEXT_SINGLE,
};

struct dataform;
struct dataform_field;

/* ---- building ----------------------------------------------------------- */

/* An empty form of TYPE. Caller frees with dataform_free(). */
struct dataform *dataform_new(enum dataform_type type);
/* NULL is a no-op. */
void dataform_free(struct dataform *form);

enum dataform_type dataform_get_type(const struct dataform *form);

/* The <title/>; replaces an earlier one. */
void dataform_set_title(struct dataform *form, const char *title);
/* Adds one <instructions/> line (XEP-0004 allows several). */
void dataform_add_instructions(struct dataform *form, const char *text);

/* Adds the hidden FORM_TYPE field (XEP-0068) as the first field, or sets
 * its value if there is one. */
void dataform_set_form_type(struct dataform *form, const char *form_type);
/* The FORM_TYPE value, or NULL. Borrowed. */
const char *dataform_get_form_type(const struct dataform *form);

/* Appends a field. VAR may be NULL only for DATAFORM_FIXED; LABEL may be
 * NULL. A var that is already in the form is a programming error
 * (g_return_val_if_fail). Returns the field, borrowed. */
struct dataform_field *dataform_add_field(struct dataform *form, enum dataform_field_type type,
                                          const char *var, const char *label);

void dataform_field_set_required(struct dataform_field *field, bool required);
void dataform_field_set_desc(struct dataform_field *field, const char *desc);
/* Makes a text-single field an integer from MIN to MAX (XEP-0122
 * xs:integer with a range): written as <validate/>, enforced by
 * dataform_check(). */
void dataform_field_set_integer(struct dataform_field *field, gint64 min, gint64 max);
/* Appends a value (a field of a single-value type keeps one: a second
 * call replaces it). */
void dataform_field_add_value(struct dataform_field *field, const char *value);
/* Appends an option of a list field. LABEL may be NULL. */
void dataform_field_add_option(struct dataform_field *field, const char *label, const char *value);

/* ---- media (XEP-0221), for pictures in fixed fields ----------------------- */

#define NS_MEDIA_ELEMENT "urn:xmpp:media-element"

/* Adds a <media/> to FIELD with one <uri type=TYPE>URI</uri> (e.g.
 * "image/png", "cid:sha1+...@bob.xmpp.org"), written inside the field.
 * Not parsed back: a submission carries none. */
void dataform_field_add_media(struct dataform_field *field, const char *type, const char *uri);
/* How many media FIELD carries, and the I-th's URI (borrowed; *TYPE set
 * to its MIME type when TYPE is not NULL). */
guint dataform_field_n_media(const struct dataform_field *field);
const char *dataform_field_media_uri(const struct dataform_field *field, guint i,
                                     const char **type);

/* ---- reading ------------------------------------------------------------ */

/* The field named VAR, or NULL. Borrowed. */
struct dataform_field *dataform_find_field(const struct dataform *form, const char *var);
/* Fields in order, for walking: pass NULL for the first; NULL at the end. */
struct dataform_field *dataform_next_field(const struct dataform *form,
                                           const struct dataform_field *prev);

enum dataform_field_type dataform_field_type(const struct dataform_field *field);
const char *dataform_field_var(const struct dataform_field *field);   /* borrowed, may be NULL */
const char *dataform_field_label(const struct dataform_field *field); /* borrowed, may be NULL */
bool dataform_field_required(const struct dataform_field *field);
/* The values (char *, in order; never NULL, maybe empty). Borrowed. */
const GPtrArray *dataform_field_values(const struct dataform_field *field);
/* The first value, or NULL when there is none. Borrowed. */
const char *dataform_field_value(const struct dataform_field *field);

/* The first value of field VAR, or NULL (no such field or no value).
 * Borrowed. */
const char *dataform_get_value(const struct dataform *form, const char *var);

/* ---- XML ---------------------------------------------------------------- */

/* Appends FORM to PARENT as <x xmlns='jabber:x:data' type=...>: title,
 * instructions, then the fields in order (type, var, label attributes;
 * <desc/>, <required/>, <validate/>, <value/>s, <option/>s). Returns the
 * <x/>, borrowed (PARENT owns it). */
struct stanza *dataform_add_to(const struct dataform *form, struct stanza *parent);

/* Reads an <x xmlns='jabber:x:data'/> of any type. A field without a type
 * is text-single (XEP-0004 §3.3). Errors (DATAFORM_ERROR_MALFORMED, with a
 * text for the sender): X is not a jabber:x:data <x/>, an unknown form or
 * field type, a field other than fixed without a var, a var twice. Caller
 * frees. */
struct dataform *dataform_parse(const struct stanza *x, GError **error);

/* ---- checking a submission ---------------------------------------------- */

/* Checks SUBMISSION against FORM, the form it answers, and returns the
 * submitted values, normalized, as a new form of type submit holding only
 * FORM's fields (with FORM's types) that were submitted; fields FORM does
 * not have, and fixed fields, are ignored.
 *
 * Per field of FORM:
 *  - required: at least one non-empty value, else DATAFORM_ERROR_REQUIRED;
 *  - single-value types (boolean, hidden, jid-single, list-single,
 *    text-private, text-single): at most one value, and no control
 *    character (Unicode Cc, TAB included) nor line or paragraph separator
 *    (U+2028, U+2029) in it;
 *  - text-multi: each value is one line, without control characters other
 *    than TAB; jid-multi and list-multi: each value as for the single type;
 *  - values other than text-private are trimmed of surrounding white
 *    space; text-private values are kept byte for byte;
 *  - boolean: 0, 1, true or false (any case), normalized to "true" or
 *    "false"; integer (dataform_field_set_integer): decimal digits with an
 *    optional sign, within the range, normalized (no leading zeros or '+');
 *    list-single and list-multi: one of the options' values; jid-single
 *    and jid-multi: a valid JID.
 * A field submitted empty (no value, or one empty value) counts as not
 * submitted, unless it is text-private (an empty password is a value).
 * On failure returns NULL with DATAFORM_ERROR_REQUIRED or _INVALID and a
 * message for the user naming the field by var and label, e.g. "'x' is
 * not a valid value for 'port' (Port)". */
struct dataform *dataform_check(const struct dataform *form, const struct dataform *submission,
                                GError **error);

/* true when VALUE is valid UTF-8 without a control character or a line or
 * paragraph separator: what dataform_check() asks of a single-value
 * field, for values that come from elsewhere (stored settings). */
bool dataform_value_is_single_line(const char *value);

#endif
