/* xml_stream: an expat push parser that turns an XMPP byte stream into
 * stanza trees, enforcing RFC 6120's restricted XML and ferry's size caps.
 *
 * Sizes: two limits, because they protect different things.
 *
 * The stanza limit (max_stanza_bytes) bounds the tree ferry builds. It is
 * checked in every handler against "mark": the byte offset up to which
 * everything has been consumed (the stream header, delivered stanzas and the
 * whitespace between them). A stanza that goes over it is not an attack on
 * the stream: any user on the network can send one (Prosody forwards 1 MB
 * of &quot; from a 200 KB message). So the tree built so far is dropped, the
 * rest of the stanza is parsed without building anything ("skipping"), and
 * when it ends its head (name, from, to, id, type) is reported through the
 * skipped callback; the stream goes on. Too deep nesting is skipped the same
 * way, up to a hard depth, and so is a stanza of more than
 * XML_STREAM_MAX_ELEMENTS elements: each node costs some 80 bytes however
 * short its tag, so 4 MiB of "<a/>" would build an 80 MB tree.
 *
 * The token limit (max_token_bytes) bounds what expat itself holds: it
 * buffers an unfinished token (a start tag with a huge attribute value, say)
 * whole, without calling any handler, so skipping cannot help there. It is
 * checked after every feed against "consumed", the end of the last event
 * any handler saw, and on each start and end tag; over it the stream fails
 * with TOO_BIG. Character data is no such token: expat hands it over as it
 * arrives, so a skipped stanza's text costs nothing however long it is.
 */
#include "config.h"
#include "ferry/xml_stream.h"

#include <expat.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

/* Above this, the character data buffer is dropped after a stanza rather
 * than kept for reuse, so one large stanza does not pin its memory. */
#define TEXT_KEEP_BYTES (64 * 1024)

/* A skipped stanza's head keeps an attribute value up to this long: the
 * longest JID (RFC 7622: three parts of 1023 bytes and two separators). */
#define HEAD_VALUE_MAX 3071

/* While skipping, nesting deeper than this many times max_depth fails the
 * stream: expat keeps a record per open element. */
#define HARD_DEPTH_FACTOR 16

struct xml_stream {
	XML_Parser parser;
	size_t max_stanza_bytes;
	size_t max_token_bytes;
	unsigned max_depth;                    /* deepest element level allowed */
	struct xml_stream_callbacks callbacks; /* copied from the caller */
	void *user_data;                       /* passed to each callback */
	unsigned depth;                        /* open elements, the root included */
	struct stanza *stanza;                 /* the depth-1 element being built */
	struct stanza *current;                /* its innermost open element */
	GString *text;                         /* character data not yet in current */
	struct stanza *head;                   /* the skipped stanza's head, or NULL */
	int skip_why;                          /* TOO_BIG, TOO_DEEP or TOO_MANY */
	unsigned elements;                     /* built in the current stanza */
	guint64 fed;                           /* bytes given to expat this stream */
	guint64 mark;                          /* bytes before this are consumed */
	guint64 consumed;                      /* end of the last event seen */
	bool in_feed;                          /* inside XML_Parse */
	bool halted;                           /* stopped, ended or failed */
	GError *error;                         /* why a handler halted the parse */
};

G_DEFINE_QUARK(ferry-xml-stream-error-quark, xml_stream_error);

const char *xml_stream_error_condition(int code)
{
	switch (code) {
	case XML_STREAM_ERROR_NOT_WELL_FORMED:
		return "not-well-formed";
	case XML_STREAM_ERROR_TOO_BIG:
	case XML_STREAM_ERROR_TOO_DEEP:
	case XML_STREAM_ERROR_TOO_MANY:
		return "policy-violation";
	case XML_STREAM_ERROR_RESTRICTED:
		return "restricted-xml";
	default:
		return "undefined-condition";
	}
}

/* Halts the parse from inside a handler with the error CODE. The first
 * error wins; later events are ignored. */
static void G_GNUC_PRINTF(3, 4) fail(struct xml_stream *s, int code, const char *format, ...)
{
	if (s->halted)
		return;
	va_list args;
	va_start(args, format);
	s->error = g_error_new_valist(XML_STREAM_ERROR, code, format, args);
	va_end(args);
	s->halted = true;
	XML_StopParser(s->parser, XML_FALSE);
}

/* The offset just past the event being handled; also records it as the
 * end of what expat has handed over. */
static guint64 event_end(struct xml_stream *s)
{
	s->consumed = (guint64)XML_GetCurrentByteIndex(s->parser) +
	              (guint64)XML_GetCurrentByteCount(s->parser);
	return s->consumed;
}

/* Fails the stream when the tag being handled is over the token limit
 * (it arrived in one feed, so the check after the feed cannot see it). */
static bool token_too_big(struct xml_stream *s)
{
	if ((size_t)XML_GetCurrentByteCount(s->parser) <= s->max_token_bytes)
		return false;
	fail(s, XML_STREAM_ERROR_TOO_BIG, "an XML token is larger than %zu bytes",
	     s->max_token_bytes);
	return true;
}

/* Copies attribute NAME=VALUE to HEAD when it is one a skipped stanza's
 * owner needs to answer it and short enough to be a real address or id. */
static void head_attr(struct stanza *head, const char *name, const char *value)
{
	static const char *const kept[] = {"from", "to", "id", "type"};
	for (gsize i = 0; i < G_N_ELEMENTS(kept); i++)
		if (strcmp(name, kept[i]) == 0 && strlen(value) <= HEAD_VALUE_MAX)
			stanza_set_attr(head, name, value);
}

/* Drops the stanza being built and parses the rest of it without building
 * anything. The head comes from the tree, or when the stanza's own start
 * tag is what went over, from NAME and ATTRS. */
static void start_skipping(struct xml_stream *s, int why, const char *name, const char **attrs)
{
	if (s->stanza != NULL) {
		s->head = stanza_new(stanza_name(s->stanza));
		guint i = 0;
		const char *n, *v;
		while (stanza_next_attr(s->stanza, &i, &n, &v))
			head_attr(s->head, n, v);
		g_clear_pointer(&s->stanza, stanza_free);
	} else {
		s->head = stanza_new(name);
		for (int i = 0; attrs[i] != NULL; i += 2)
			head_attr(s->head, attrs[i], attrs[i + 1]);
	}
	s->current = NULL;
	s->skip_why = why;
	g_string_truncate(s->text, 0);
}

static void reclaim_text(struct xml_stream *s)
{
	if (s->text->allocated_len > TEXT_KEEP_BYTES) {
		g_string_free(s->text, TRUE);
		s->text = g_string_sized_new(256);
	}
}

/* The skipped stanza ended at END: report its head, carry on. */
static void finish_skipping(struct xml_stream *s, guint64 end)
{
	struct stanza *head = g_steal_pointer(&s->head);
	guint64 bytes = end - s->mark;
	s->mark = end;
	reclaim_text(s);
	if (s->callbacks.skipped != NULL)
		s->callbacks.skipped(s->user_data, head, s->skip_why, bytes);
	stanza_free(head);
}

static bool over_limit(const struct xml_stream *s, guint64 end)
{
	return end - s->mark > s->max_stanza_bytes;
}

static void flush_text(struct xml_stream *s)
{
	if (s->text->len == 0)
		return;
	stanza_add_text(s->current, s->text->str, (gssize)s->text->len);
	g_string_truncate(s->text, 0);
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
	struct xml_stream *s = data;
	if (s->halted)
		return;
	guint64 end = event_end(s);
	if (token_too_big(s))
		return;
	unsigned level = s->depth; /* the root is level 0, stanzas level 1 */
	if (level == 0) {
		s->depth = 1;
		s->mark = end;
		if (s->callbacks.stream_start != NULL)
			s->callbacks.stream_start(s->user_data, name, attrs);
		return;
	}
	if (level == 1)
		s->elements = 0;
	if (s->head == NULL) {
		if (level > s->max_depth)
			start_skipping(s, XML_STREAM_ERROR_TOO_DEEP, name, attrs);
		else if (over_limit(s, end))
			start_skipping(s, XML_STREAM_ERROR_TOO_BIG, name, attrs);
		else if (++s->elements > XML_STREAM_MAX_ELEMENTS)
			start_skipping(s, XML_STREAM_ERROR_TOO_MANY, name, attrs);
	}
	if (s->head != NULL) {
		if (level > s->max_depth * HARD_DEPTH_FACTOR) {
			fail(s, XML_STREAM_ERROR_TOO_DEEP, "elements are nested deeper than %u",
			     s->max_depth * HARD_DEPTH_FACTOR);
			return;
		}
		s->depth++;
		return;
	}
	struct stanza *element = stanza_new_with_attrs(name, attrs);
	if (level == 1) {
		s->stanza = element;
	} else {
		flush_text(s);
		stanza_add_child_take(s->current, element);
	}
	s->current = element;
	s->depth++;
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
	struct xml_stream *s = data;
	if (s->halted)
		return;
	if (s->depth == 1) {
		/* The root closed: nothing after it belongs to this stream. */
		s->depth = 0;
		s->halted = true;
		XML_StopParser(s->parser, XML_FALSE);
		if (s->callbacks.stream_end != NULL)
			s->callbacks.stream_end(s->user_data);
		return;
	}
	guint64 end = event_end(s);
	if (token_too_big(s))
		return;
	if (s->head == NULL && over_limit(s, end))
		start_skipping(s, XML_STREAM_ERROR_TOO_BIG, NULL, NULL);
	if (s->head != NULL) {
		if (--s->depth == 1)
			finish_skipping(s, end);
		return;
	}
	flush_text(s);
	s->depth--;
	if (s->depth > 1) {
		s->current = stanza_parent(s->current);
		return;
	}
	struct stanza *stanza = s->stanza;
	s->stanza = s->current = NULL;
	s->mark = end;
	reclaim_text(s);
	if (s->callbacks.stanza != NULL)
		s->callbacks.stanza(s->user_data, stanza);
	else
		stanza_free(stanza);
}

static void XMLCALL on_text(void *data, const XML_Char *text, int len)
{
	struct xml_stream *s = data;
	if (s->halted)
		return;
	guint64 end = event_end(s);
	if (s->depth <= 1) {
		/* Between stanzas only whitespace (keepalives) may appear. It
		 * is consumed at once, so it never counts towards a stanza. */
		for (int i = 0; i < len; i++) {
			char c = text[i];
			if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
				fail(s, XML_STREAM_ERROR_NOT_WELL_FORMED, "text outside a stanza");
				return;
			}
		}
		s->mark = end;
		return;
	}
	if (s->head == NULL && over_limit(s, end))
		start_skipping(s, XML_STREAM_ERROR_TOO_BIG, NULL, NULL);
	if (s->head != NULL)
		return;
	g_string_append_len(s->text, text, len);
}

static void XMLCALL on_comment(void *data, const XML_Char *text)
{
	fail(data, XML_STREAM_ERROR_RESTRICTED, "comments are not allowed");
}

static void XMLCALL on_pi(void *data, const XML_Char *target, const XML_Char *pi_data)
{
	fail(data, XML_STREAM_ERROR_RESTRICTED, "processing instructions are not allowed");
}

static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
	fail(data, XML_STREAM_ERROR_RESTRICTED, "a DOCTYPE is not allowed");
}

static void XMLCALL on_entity_decl(void *data, const XML_Char *name, int is_parameter,
                                   const XML_Char *value, int value_length, const XML_Char *base,
                                   const XML_Char *system_id, const XML_Char *public_id,
                                   const XML_Char *notation)
{
	fail(data, XML_STREAM_ERROR_RESTRICTED, "entity declarations are not allowed");
}

/* Registers everything on a new or freshly reset parser. */
static void setup_parser(struct xml_stream *s)
{
	XML_SetUserData(s->parser, s);
	XML_SetElementHandler(s->parser, on_start, on_end);
	XML_SetCharacterDataHandler(s->parser, on_text);
	XML_SetCommentHandler(s->parser, on_comment);
	XML_SetProcessingInstructionHandler(s->parser, on_pi);
	XML_SetStartDoctypeDeclHandler(s->parser, on_doctype);
	XML_SetEntityDeclHandler(s->parser, on_entity_decl);
	XML_SetParamEntityParsing(s->parser, XML_PARAM_ENTITY_PARSING_NEVER);
#ifdef HAVE_XML_SETREPARSEDEFERRALENABLED
	/* Expat >= 2.6 (and Debian's 2.5.0 backport) may hold back a large
	 * token until more input arrives; a stream needs every stanza as soon
	 * as its last byte is in. */
	XML_SetReparseDeferralEnabled(s->parser, XML_FALSE);
#endif
}

struct xml_stream *xml_stream_new(size_t max_stanza_bytes, unsigned max_depth,
                                  const struct xml_stream_callbacks *callbacks, void *user_data)
{
	struct xml_stream *s = g_new0(struct xml_stream, 1);
	s->max_stanza_bytes =
	    max_stanza_bytes != 0 ? max_stanza_bytes : XML_STREAM_DEFAULT_MAX_STANZA_BYTES;
	s->max_token_bytes = 2 * s->max_stanza_bytes;
	s->max_depth = max_depth != 0 ? max_depth : XML_STREAM_DEFAULT_MAX_DEPTH;
	if (callbacks != NULL)
		s->callbacks = *callbacks;
	s->user_data = user_data;
	s->text = g_string_sized_new(256);
	s->parser = XML_ParserCreate("UTF-8");
	if (s->parser == NULL)
		g_error("xml_stream: out of memory creating the XML parser");
	setup_parser(s);
	return s;
}

void xml_stream_free(struct xml_stream *stream)
{
	if (stream == NULL)
		return;
	g_return_if_fail(!stream->in_feed);
	stanza_free(stream->stanza);
	stanza_free(stream->head);
	g_string_free(stream->text, TRUE);
	g_clear_error(&stream->error);
	XML_ParserFree(stream->parser);
	g_free(stream);
}

bool xml_stream_feed(struct xml_stream *stream, const char *data, size_t len, GError **error)
{
	g_return_val_if_fail(stream != NULL, false);
	g_return_val_if_fail(data != NULL || len == 0, false);
	g_return_val_if_fail(!stream->in_feed, false);
	struct xml_stream *s = stream;
	if (s->halted) {
		g_set_error_literal(error, XML_STREAM_ERROR, XML_STREAM_ERROR_CLOSED,
		                    "the stream is closed");
		return false;
	}
	s->in_feed = true;
	while (len > 0 && !s->halted) {
		int chunk = len > INT_MAX / 2 ? INT_MAX / 2 : (int)len;
		if (XML_Parse(s->parser, data, chunk, XML_FALSE) == XML_STATUS_ERROR &&
		    !s->halted) {
			enum XML_Error code = XML_GetErrorCode(s->parser);
			s->error = g_error_new(XML_STREAM_ERROR, XML_STREAM_ERROR_NOT_WELL_FORMED,
			                       "line %lu, column %lu: %s",
			                       (unsigned long)XML_GetCurrentLineNumber(s->parser),
			                       (unsigned long)XML_GetCurrentColumnNumber(s->parser),
			                       XML_ErrorString(code));
			s->halted = true;
		}
		s->fed += (guint64)chunk;
		data += chunk;
		len -= (size_t)chunk;
	}
	s->in_feed = false;
	/* Catches what no handler saw: an unfinished token buffered in expat. */
	if (!s->halted && s->fed - s->consumed > s->max_token_bytes) {
		s->error = g_error_new(XML_STREAM_ERROR, XML_STREAM_ERROR_TOO_BIG,
		                       "an XML token is larger than %zu bytes", s->max_token_bytes);
		s->halted = true;
	}
	if (s->error != NULL) {
		g_propagate_error(error, g_steal_pointer(&s->error));
		return false;
	}
	return true;
}

void xml_stream_stop(struct xml_stream *stream)
{
	g_return_if_fail(stream != NULL);
	if (stream->halted)
		return;
	stream->halted = true;
	if (stream->in_feed)
		XML_StopParser(stream->parser, XML_FALSE);
}

void xml_stream_reset(struct xml_stream *stream)
{
	g_return_if_fail(stream != NULL);
	g_return_if_fail(!stream->in_feed);
	g_clear_pointer(&stream->stanza, stanza_free);
	g_clear_pointer(&stream->head, stanza_free);
	stream->current = NULL;
	g_string_truncate(stream->text, 0);
	g_clear_error(&stream->error);
	stream->depth = 0;
	stream->fed = stream->mark = stream->consumed = 0;
	stream->halted = false;
	XML_ParserReset(stream->parser, "UTF-8");
	setup_parser(stream);
}

void xml_stream_set_max_token_bytes(struct xml_stream *stream, size_t max_token_bytes)
{
	g_return_if_fail(stream != NULL);
	stream->max_token_bytes =
	    max_token_bytes != 0 ? max_token_bytes : 2 * stream->max_stanza_bytes;
}
