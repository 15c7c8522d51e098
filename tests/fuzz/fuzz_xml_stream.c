/* libFuzzer target for xml_stream and the stanza serializer.
 *
 * The input is fed as a byte stream in chunks whose sizes come from the
 * input itself; the last byte picks the plan (whole, byte by byte, or sizes
 * read from the data). After an error the stream is reset and the rest fed
 * again, to exercise reset. Every stanza is serialized, and the result must
 * parse back to one stanza that serializes identically (the serializer's
 * well-formedness and round-trip promise); a copy must serialize the same
 * too. Any mismatch aborts.
 */
#include "config.h"
#include "ferry/xml_stream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_STANZA_BYTES 1024 /* small, so the limit is reached often */
#define FUZZ_MAX_DEPTH 16
#define FUZZ_MAX_RESETS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct reparse {
	struct stanza *stanza; /* the one stanza parsed back */
	int count;             /* stanzas seen */
};

static void reparse_stanza(void *user_data, struct stanza *stanza)
{
	struct reparse *r = user_data;
	if (r->count++ == 0)
		r->stanza = stanza;
	else
		stanza_free(stanza);
}

/* Parses XML back inside a wrapper root and checks it is one stanza that
 * serializes to XML again. */
static void check_round_trip(const char *xml)
{
	struct reparse r = {0};
	struct xml_stream_callbacks cb = {.stanza = reparse_stanza};
	size_t len = strlen(xml);
	struct xml_stream *s = xml_stream_new(len + 16, FUZZ_MAX_DEPTH, &cb, &r);
	GError *error = NULL;
	bool ok = xml_stream_feed(s, "<r>", 3, &error) && xml_stream_feed(s, xml, len, &error);
	xml_stream_free(s);
	if (!ok || r.count != 1)
		abort();
	char *again = stanza_to_string(r.stanza);
	if (strcmp(again, xml) != 0)
		abort();
	g_free(again);
	stanza_free(r.stanza);
}

static void on_start(void *user_data, const char *name, const char **attrs)
{
	size_t n = strlen(name);
	for (size_t i = 0; attrs[i] != NULL; i++)
		n += strlen(attrs[i]);
	*(size_t *)user_data += n;
}

static void on_stanza(void *user_data, struct stanza *stanza)
{
	char *xml = stanza_to_string(stanza);
	check_round_trip(xml);

	struct stanza *copy = stanza_copy(stanza);
	char *copied = stanza_to_string(copy);
	if (strcmp(copied, xml) != 0)
		abort();
	g_free(copied);

	/* Walk the lookup helpers over the first level. */
	for (struct stanza *c = stanza_next_child(copy, NULL); c != NULL;
	     c = stanza_next_child(copy, c)) {
		if (stanza_find_child(copy, stanza_name(c), stanza_ns(c)) == NULL)
			abort();
		g_free(stanza_get_text(c));
	}
	struct stanza *err = stanza_new_error(copy, NULL, "bad-request", "fuzz", true);
	char *err_xml = stanza_to_string(err);
	check_round_trip(err_xml);
	g_free(err_xml);
	stanza_free(err);
	stanza_free(copy);

	*(size_t *)user_data += strlen(xml);
	g_free(xml);
	stanza_free(stanza);
}

static void on_end(void *user_data)
{
	*(size_t *)user_data += 1;
}

/* The next chunk's size under PLAN. */
static size_t chunk_size(int plan, const uint8_t *data, size_t pos, size_t size)
{
	switch (plan) {
	case 0:
		return size - pos;
	case 1:
		return 1;
	default:
		return MIN((size_t)1 + data[pos] % 64, size - pos);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	int plan = data[size - 1] % 4;
	size_t sink = 0;
	struct xml_stream_callbacks cb = {
	    .stream_start = on_start,
	    .stanza = on_stanza,
	    .stream_end = on_end,
	};
	struct xml_stream *s = xml_stream_new(FUZZ_MAX_STANZA_BYTES, FUZZ_MAX_DEPTH, &cb, &sink);
	int resets = 0;
	size_t pos = 0;
	while (pos < size) {
		size_t n = chunk_size(plan, data, pos, size);
		GError *error = NULL;
		if (!xml_stream_feed(s, (const char *)data + pos, n, &error)) {
			if (error == NULL || error->domain != XML_STREAM_ERROR ||
			    xml_stream_error_condition(error->code) == NULL)
				abort();
			g_error_free(error);
			if (++resets > FUZZ_MAX_RESETS)
				break;
			xml_stream_reset(s);
		}
		pos += n;
	}
	xml_stream_free(s);
	return 0;
}
