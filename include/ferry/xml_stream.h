/* xml_stream: turns the bytes of an XMPP stream into stanza trees.
 *
 * Fed bytes by its owner (it does no I/O), it reports the stream header,
 * each complete top-level element (depth 1) as a struct stanza, and the end
 * of the stream. Whitespace between stanzas (keepalives) is accepted.
 *
 * Limits: a stanza larger than max_stanza_bytes, or with elements nested
 * deeper than max_depth, is skipped without being built: its head is
 * reported through the skipped callback and the stream goes on, since any
 * user of the network can send one; so is a stanza of more than
 * XML_STREAM_MAX_ELEMENTS elements. Elements nested 16 times deeper than
 * max_depth, a single XML token (a start or end tag; expat buffers one
 * whole) larger than max_token_bytes, any DOCTYPE or entity declaration,
 * comments and processing instructions, text outside stanzas, and invalid
 * XML or UTF-8 each end the stream with an error. After an error the stream
 * accepts no more input until xml_stream_reset(). Memory held is bounded by
 * max_stanza_bytes (the tree) plus max_token_bytes (expat's buffer) plus the
 * size of one fed chunk.
 */
#ifndef FERRY_XML_STREAM_H
#define FERRY_XML_STREAM_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "ferry/stanza.h"

struct xml_stream;

#define XML_STREAM_ERROR (xml_stream_error_quark())
GQuark xml_stream_error_quark(void);

enum xml_stream_error_code {
	XML_STREAM_ERROR_NOT_WELL_FORMED, /* invalid XML or UTF-8 */
	XML_STREAM_ERROR_TOO_BIG,         /* a token over max_token_bytes; or a skipped
	                                     stanza over max_stanza_bytes */
	XML_STREAM_ERROR_TOO_DEEP,        /* nesting over 16 x max_depth; or a skipped
	                                     stanza over max_depth */
	XML_STREAM_ERROR_RESTRICTED,      /* DOCTYPE, entity, comment, PI */
	XML_STREAM_ERROR_CLOSED,          /* input after the end or after an error */
	XML_STREAM_ERROR_TOO_MANY,        /* a skipped stanza over XML_STREAM_MAX_ELEMENTS */
};

/* The RFC 6120 stream error condition for an xml_stream error code. */
const char *xml_stream_error_condition(int code);

/* The stanza limit counts a stanza's bytes as received (from the end of the
 * previous stanza or keepalive). For the depth limit the stream root is
 * level 0 and a stanza level 1: an element at a level above max_depth makes
 * its stanza skipped. The default stanza limit is settings.c's (see
 * config/ferry.conf.example for why 4 MiB); the token limit defaults to
 * twice the stanza limit. */
#define XML_STREAM_DEFAULT_MAX_STANZA_BYTES (4 * 1024 * 1024)
#define XML_STREAM_DEFAULT_MAX_DEPTH 64
/* Elements in one stanza, its own included; beyond, it is skipped. A tree
 * node takes some 80 bytes, so this bounds a tree of tiny elements to about
 * 5 MB, and leaves room for a roster of 20 000 contacts. */
#define XML_STREAM_MAX_ELEMENTS 65536

struct xml_stream_callbacks {
	/* The root element opened. ATTRS is a NULL-terminated name/value
	 * array, borrowed for the call. */
	void (*stream_start)(void *user_data, const char *name, const char **attrs);
	/* A complete depth-1 element. The callee owns STANZA. It is a detached
	 * root carrying only what was written on it: the stream header's
	 * default xmlns is not copied in, so stanza_ns() of a plain <iq/> is
	 * NULL. */
	void (*stanza)(void *user_data, struct stanza *stanza);
	/* The root element closed. */
	void (*stream_end)(void *user_data);
	/* A depth-1 element was skipped, WHY being XML_STREAM_ERROR_TOO_BIG,
	 * _TOO_DEEP or _TOO_MANY, after its last byte: BYTES long. HEAD is
	 * borrowed for the call: an element of the stanza's name carrying only
	 * its from, to, id and type attributes (each when present and at most
	 * 3071 bytes long), no children. */
	void (*skipped)(void *user_data, const struct stanza *head, int why, guint64 bytes);
};

/* MAX_STANZA_BYTES 0 / MAX_DEPTH 0 select the defaults. The callbacks are
 * copied; USER_DATA is passed to each. Callbacks must not free or reset the
 * stream; they may call xml_stream_stop(). */
struct xml_stream *xml_stream_new(size_t max_stanza_bytes, unsigned max_depth,
                                  const struct xml_stream_callbacks *callbacks, void *user_data);
void xml_stream_free(struct xml_stream *stream);

/* Sets the token limit; 0 selects the default (twice max_stanza_bytes). A
 * value below max_stanza_bytes would fail a stream on a stanza that is
 * within its limit: the owner keeps it at least as large. */
void xml_stream_set_max_token_bytes(struct xml_stream *stream, size_t max_token_bytes);

/* Feeds LEN bytes. Callbacks run from inside this call. Returns false with
 * ERROR set (domain XML_STREAM_ERROR) when the stream is broken; the bytes
 * after the error are not parsed. */
bool xml_stream_feed(struct xml_stream *stream, const char *data, size_t len, GError **error);

/* From inside a callback: parse no further bytes of this feed and accept
 * no more input until reset. The feed returns true. */
void xml_stream_stop(struct xml_stream *stream);

/* Forgets all state, ready for a new stream (after a reconnect). */
void xml_stream_reset(struct xml_stream *stream);

#endif
