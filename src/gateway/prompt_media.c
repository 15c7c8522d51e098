/* prompt_media: picture sniffing, BOB data and QR drawing (prompt_media.h). */
#include "config.h"
#include "prompt_media.h"

#include "ferry/worker_protocol.h"

/* An integer field's range (libpurple's int fields are C ints). */
#define PROMPT_INT_MIN G_MININT32
#define PROMPT_INT_MAX G_MAXINT32

#include <qrencode.h>
#include <string.h>

const char *prompt_media_sniff(const guint8 *data, gsize len)
{
	static const guint8 png[] = {0x89, 0x50, 0x4E, 0x47};
	static const guint8 jpeg[] = {0xFF, 0xD8, 0xFF};
	if (data == NULL)
		return NULL;
	if (len >= sizeof(png) && memcmp(data, png, sizeof(png)) == 0)
		return "image/png";
	if (len >= sizeof(jpeg) && memcmp(data, jpeg, sizeof(jpeg)) == 0)
		return "image/jpeg";
	if (len >= 4 && memcmp(data, "GIF8", 4) == 0)
		return "image/gif";
	return NULL;
}

char *prompt_media_cid(const guint8 *data, gsize len)
{
	g_autofree char *hex = g_compute_checksum_for_data(G_CHECKSUM_SHA1, data, len);
	return g_strdup_printf("sha1+%s@bob.xmpp.org", hex);
}

struct stanza *prompt_media_bob(const guint8 *data, gsize len, const char *type, const char *cid)
{
	struct stanza *d = stanza_new_ns("data", NS_BOB);
	stanza_set_attr(d, "cid", cid);
	stanza_set_attr(d, "type", type);
	stanza_set_attr(d, "max-age", PROMPT_BOB_MAX_AGE);
	g_autofree char *b64 = g_base64_encode(data, len);
	stanza_add_text(d, b64, -1);
	return d;
}

bool prompt_media_is_qr_var(const char *var)
{
	if (var == NULL)
		return false;
	g_autofree char *low = g_ascii_strdown(var, -1);
	return strstr(low, "qr") != NULL;
}

/* Whether module (X, Y) of QR is dark; outside the symbol (the quiet
 * zone) is light. */
static bool dark(const QRcode *qr, int x, int y)
{
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return false;
	return (qr->data[y * qr->width + x] & 1) != 0;
}

#define QUIET 2

char **prompt_media_qr_lines(const char *text)
{
	if (text == NULL || *text == '\0')
		return NULL;
	QRcode *qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_L);
	if (qr == NULL)
		return NULL;
	GPtrArray *lines = g_ptr_array_new();
	int size = qr->width + 2 * QUIET;
	for (int y = -QUIET; y < size - QUIET; y += 2) {
		GString *line = g_string_new(NULL);
		for (int x = -QUIET; x < size - QUIET; x++) {
			bool top = dark(qr, x, y), bottom = dark(qr, x, y + 1);
			g_string_append(line, top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " ");
		}
		g_ptr_array_add(lines, g_string_free(line, FALSE));
	}
	g_ptr_array_add(lines, NULL);
	QRcode_free(qr);
	return (char **)g_ptr_array_free(lines, FALSE);
}

/* ---- a PROMPT's form --------------------------------------------------------------------------- */

static bool field_type_of(const char *name, enum dataform_field_type *type)
{
	static const struct {
		const char *name;
		enum dataform_field_type type;
	} types[] = {
	    {"text-single", DATAFORM_TEXT_SINGLE},
	    {"text-private", DATAFORM_TEXT_PRIVATE},
	    {"text-multi", DATAFORM_TEXT_MULTI},
	    {"boolean", DATAFORM_BOOLEAN},
	    {"list-single", DATAFORM_LIST_SINGLE},
	    {"list-multi", DATAFORM_LIST_MULTI},
	    {"fixed", DATAFORM_FIXED},
	    {"hidden", DATAFORM_HIDDEN},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(types); i++) {
		if (g_strcmp0(name, types[i].name) == 0) {
			*type = types[i].type;
			return true;
		}
	}
	return false;
}

static const char *get(GHashTable *t, const char *key)
{
	const char *v = g_hash_table_lookup(t, key);
	return v != NULL ? v : "";
}

static bool multi_valued(enum dataform_field_type type)
{
	return type == DATAFORM_LIST_MULTI || type == DATAFORM_TEXT_MULTI || type == DATAFORM_FIXED;
}

/* The "value\tlabel" lines of OPTIONS as F's options. */
static void add_options(struct dataform_field *f, const char *options)
{
	g_auto(GStrv) lines = g_strsplit(options, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		if (**l == '\0')
			continue;
		char *tab = strchr(*l, '\t');
		if (tab != NULL)
			*tab = '\0';
		dataform_field_add_option(f, tab != NULL ? tab + 1 : NULL, *l);
	}
}

/* A picture field: a fixed field with LABEL as its text alternative and
 * a <media/> pointing to its BOB cid, or a note when its format cannot
 * be shown (TGA and anything unknown are dropped). */
static void add_picture(const char *log_name, GPtrArray *bobs, struct dataform *form, GHashTable *t)
{
	const char *label = get(t, WORKER_PROMPT_FIELD_LABEL);
	gsize len = 0;
	g_autofree guint8 *bytes = g_base64_decode(get(t, WORKER_PROMPT_FIELD_IMAGE), &len);
	const char *type = len > 0 ? prompt_media_sniff(bytes, len) : NULL;
	struct dataform_field *f =
	    dataform_add_field(form, DATAFORM_FIXED, NULL, *label != '\0' ? label : NULL);
	if (type == NULL) {
		g_message("prompts: %s: a picture of %" G_GSIZE_FORMAT
		          " bytes in a format that cannot be shown, dropped",
		          log_name, len);
		dataform_field_add_value(f, "(a picture in a format that cannot be shown)");
		return;
	}
	g_autofree char *cid = prompt_media_cid(bytes, len);
	g_autofree char *uri = g_strconcat("cid:", cid, NULL);
	dataform_field_add_media(f, type, uri);
	dataform_field_add_value(f, *label != '\0' ? label : "(a picture)");
	g_ptr_array_add(bobs, prompt_media_bob(bytes, len, type, cid));
}

/* A QR code's TEXT drawn in blocks, as a fixed field after its text. */
static void add_qr_drawing(struct dataform *form, const char *text, bool text_shown)
{
	g_auto(GStrv) lines = prompt_media_qr_lines(text);
	if (lines == NULL)
		return;
	struct dataform_field *f = dataform_add_field(form, DATAFORM_FIXED, NULL, "QR code");
	for (char **l = lines; *l != NULL; l++)
		dataform_field_add_value(f, *l);
	if (!text_shown)
		dataform_field_add_value(f, text);
}

static void add_field(const char *log_name, GPtrArray *bobs, struct dataform *form, GHashTable *t)
{
	enum dataform_field_type type;
	const char *var = get(t, WORKER_PROMPT_FIELD_VAR);
	if (!field_type_of(get(t, WORKER_PROMPT_FIELD_TYPE), &type)) {
		g_warning("prompts: %s: a field of unknown type '%s' left out", log_name,
		          get(t, WORKER_PROMPT_FIELD_TYPE));
		return;
	}
	if (*get(t, WORKER_PROMPT_FIELD_IMAGE) != '\0') {
		add_picture(log_name, bobs, form, t);
		return;
	}
	if (*var == '\0' && type != DATAFORM_FIXED)
		return;
	if (*var != '\0' && dataform_find_field(form, var) != NULL)
		return; /* the worker promises unique vars */
	const char *label = get(t, WORKER_PROMPT_FIELD_LABEL);
	struct dataform_field *f = dataform_add_field(form, type, *var != '\0' ? var : NULL,
	                                              *label != '\0' ? label : NULL);
	const char *desc = get(t, WORKER_PROMPT_FIELD_DESC);
	if (*desc != '\0')
		dataform_field_set_desc(f, desc);
	if (strcmp(get(t, WORKER_PROMPT_FIELD_REQUIRED), "1") == 0)
		dataform_field_set_required(f, true);
	if (type == DATAFORM_TEXT_SINGLE && strcmp(get(t, WORKER_PROMPT_FIELD_INTEGER), "1") == 0)
		dataform_field_set_integer(f, PROMPT_INT_MIN, PROMPT_INT_MAX);
	if (type == DATAFORM_LIST_SINGLE || type == DATAFORM_LIST_MULTI)
		add_options(f, get(t, WORKER_PROMPT_FIELD_OPTIONS));
	const char *value = get(t, WORKER_PROMPT_FIELD_VALUE);
	if (*value != '\0') {
		if (multi_valued(type)) {
			g_auto(GStrv) vs = g_strsplit(value, "\n", -1);
			for (char **v = vs; *v != NULL; v++)
				dataform_field_add_value(f, *v);
		} else {
			dataform_field_add_value(f, value);
		}
	}
	if (prompt_media_is_qr_var(var) && *value != '\0' && type != DATAFORM_TEXT_PRIVATE)
		add_qr_drawing(form, value, type != DATAFORM_HIDDEN);
}

void prompt_media_heading(struct dataform *form, const char *title, const char *instructions)
{
	if (title != NULL && *title != '\0')
		dataform_set_title(form, title);
	if (instructions == NULL)
		return;
	g_auto(GStrv) lines = g_strsplit(instructions, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		if (**l != '\0')
			dataform_add_instructions(form, *l);
	}
}

struct dataform *prompt_media_form(GPtrArray *fields, const char *title, const char *instructions,
                                   GPtrArray *bobs, const char *log_name)
{
	struct dataform *form = dataform_new(DATAFORM_FORM);
	prompt_media_heading(form, title, instructions);
	for (guint i = 0; fields != NULL && i < fields->len; i++)
		add_field(log_name, bobs, form, g_ptr_array_index(fields, i));
	return form;
}
