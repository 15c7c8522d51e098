/* bench_parser: throughput of ferry's xml_stream against bare expat.
 *
 * Both parse the same recorded server-to-component stream (real Prosody
 * output, see record_stream.py) fed in fixed-size chunks as socket reads
 * would deliver it, one fresh (reset) stream per pass:
 *
 *   ferry  xml_stream with the usual checks, every stanza built into a tree
 *          and handed to a callback that looks at it the way component_stream.c's
 *          on_stanza does, then frees it;
 *   expat  the same expat configuration ferry uses (XML_ParserCreate, no
 *          namespace processing, reparse deferral off) with empty element
 *          and character data handlers: the least any parser must do.
 *          (Its element handlers keep a depth counter, so the stanza count
 *          can be checked against ferry's.)
 *   expat-ns  informational: the same with XML_ParserCreateNS(NULL, ' '),
 *          what namespace processing would cost.
 *
 * Each sample repeats passes for about --seconds (0.3 s); the figures are
 * the median, minimum and maximum MB/s (10^6 bytes per second) of the
 * samples, and the ratio of the medians ferry/expat. Every pass must parse
 * the same number of stanzas without an error, or the program exits 1: a
 * broken parse cannot report a speed.
 *
 *   bench_parser [--file PATH] [--samples N] [--chunk BYTES] [--seconds S]
 *                [--json FILE] [--passes N]
 *
 * --passes N skips the timing and runs N passes of each parser once, for
 * valgrind --tool=callgrind (the passes are in the non-inlined functions
 * ferry_pass and expat_pass).
 */
#include "config.h"
#include "ferry/xml_stream.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef FERRY_BENCH_DATA
#define FERRY_BENCH_DATA "tests/bench/data/component-stream.xml"
#endif

enum { PARSER_FERRY, PARSER_EXPAT, PARSER_EXPAT_NS, N_PARSERS };
static const char *const parser_names[N_PARSERS] = {"ferry", "expat", "expat-ns"};

struct input {
	const char *data;
	size_t len;
	size_t chunk;
};

/* ---- ferry ------------------------------------------------------------------ */

struct ferry_state {
	struct xml_stream *stream;
	guint64 stanzas; /* delivered this pass */
	guint64 iqs;     /* a use of the tree, as component.c makes of it */
	bool started;
	bool ended;
};

static void ferry_stream_start(void *user_data, const char *name, const char **attrs)
{
	struct ferry_state *st = user_data;
	st->started = true;
}

/* What component_stream.c's on_stanza does with every stanza before the router:
 * compare the name, look at the id of an iq, then (here) free it. */
static void ferry_stanza(void *user_data, struct stanza *stanza)
{
	struct ferry_state *st = user_data;
	st->stanzas++;
	const char *name = stanza_name(stanza);
	if (strcmp(name, "iq") == 0 && stanza_get_id(stanza) != NULL)
		st->iqs++;
	stanza_free(stanza);
}

static void ferry_stream_end(void *user_data)
{
	struct ferry_state *st = user_data;
	st->ended = true;
}

static const struct xml_stream_callbacks ferry_callbacks = {
    .stream_start = ferry_stream_start,
    .stanza = ferry_stanza,
    .stream_end = ferry_stream_end,
};

/* One pass over the input; the number of stanzas, or -1 on a parse error. */
static G_GNUC_NO_INLINE gint64 ferry_pass(struct ferry_state *st, const struct input *in)
{
	xml_stream_reset(st->stream);
	st->stanzas = 0;
	st->started = st->ended = false;
	for (size_t off = 0; off < in->len && !st->ended; off += in->chunk) {
		size_t n = MIN(in->chunk, in->len - off);
		g_autoptr(GError) error = NULL;
		if (!xml_stream_feed(st->stream, in->data + off, n, &error)) {
			fprintf(stderr, "bench_parser: ferry: at byte %zu: %s\n", off,
			        error->message);
			return -1;
		}
	}
	if (!st->started) {
		fprintf(stderr, "bench_parser: ferry: no stream header\n");
		return -1;
	}
	return (gint64)st->stanzas;
}

/* ---- bare expat ---------------------------------------------------------- */

struct expat_state {
	XML_Parser parser;
	unsigned depth;
	guint64 stanzas;
};

static void XMLCALL expat_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
	struct expat_state *st = data;
	st->depth++;
}

static void XMLCALL expat_end(void *data, const XML_Char *name)
{
	struct expat_state *st = data;
	if (--st->depth == 1)
		st->stanzas++;
}

static void XMLCALL expat_text(void *data, const XML_Char *text, int len)
{
}

static void expat_setup(struct expat_state *st)
{
	XML_SetUserData(st->parser, st);
	XML_SetElementHandler(st->parser, expat_start, expat_end);
	XML_SetCharacterDataHandler(st->parser, expat_text);
#ifdef HAVE_XML_SETREPARSEDEFERRALENABLED
	XML_SetReparseDeferralEnabled(st->parser, XML_FALSE);
#endif
}

static G_GNUC_NO_INLINE gint64 expat_pass(struct expat_state *st, const struct input *in)
{
	XML_ParserReset(st->parser, "UTF-8");
	expat_setup(st);
	st->depth = 0;
	st->stanzas = 0;
	for (size_t off = 0; off < in->len; off += in->chunk) {
		size_t n = MIN(in->chunk, in->len - off);
		if (XML_Parse(st->parser, in->data + off, (int)n, XML_FALSE) == XML_STATUS_ERROR) {
			fprintf(stderr, "bench_parser: expat: line %lu: %s\n",
			        (unsigned long)XML_GetCurrentLineNumber(st->parser),
			        XML_ErrorString(XML_GetErrorCode(st->parser)));
			return -1;
		}
	}
	return (gint64)st->stanzas;
}

/* ---- measuring --------------------------------------------------------------- */

struct bench {
	struct input in;
	struct ferry_state ferry;
	struct expat_state expat[2]; /* plain, namespaces */
	gint64 stanzas;              /* per pass, the same for every parser */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One pass of PARSER; exits when it fails or its stanza count differs. */
static void one_pass(struct bench *b, int parser)
{
	gint64 got = parser == PARSER_FERRY ? ferry_pass(&b->ferry, &b->in)
	                                    : expat_pass(&b->expat[parser - PARSER_EXPAT], &b->in);
	if (got < 0)
		exit(1);
	if (b->stanzas < 0)
		b->stanzas = got;
	if (got != b->stanzas || got == 0) {
		fprintf(stderr,
		        "bench_parser: %s parsed %" G_GINT64_FORMAT " stanzas in a pass, "
		        "expected %" G_GINT64_FORMAT "\n",
		        parser_names[parser], got, b->stanzas);
		exit(1);
	}
}

/* MB/s of REPS passes. */
static double sample(struct bench *b, int parser, unsigned reps)
{
	double t0 = now();
	for (unsigned i = 0; i < reps; i++)
		one_pass(b, parser);
	double t = now() - t0;
	return (double)b->in.len * reps / t / 1e6;
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct figures {
	double median, min, max;
};

static struct figures summarize(double *v, unsigned n)
{
	qsort(v, n, sizeof *v, compare_double);
	double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return (struct figures){median, v[0], v[n - 1]};
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_parser [--file PATH] [--samples N] [--chunk BYTES] "
	                "[--seconds S] [--json FILE] [--passes N]\n");
	exit(2);
}

static unsigned long number_arg(const char *opt, const char *s, unsigned long max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v == 0 || v > max) {
		fprintf(stderr, "bench_parser: %s: '%s' is not a whole number from 1 to %lu\n", opt,
		        s, max);
		exit(2);
	}
	return v;
}

static bool write_json(const char *path, const struct bench *b, const char *file, unsigned samples,
                       const struct figures *f)
{
	FILE *out = fopen(path, "w");
	if (out == NULL) {
		perror(path);
		return false;
	}
	g_autofree char *escaped = g_strescape(file, NULL);
	fprintf(out, "{\n  \"file\": \"%s\",\n  \"bytes\": %zu,\n", escaped, b->in.len);
	fprintf(out, "  \"stanzas_per_pass\": %" G_GINT64_FORMAT ",\n", b->stanzas);
	fprintf(out, "  \"chunk_bytes\": %zu,\n  \"samples\": %u,\n", b->in.chunk, samples);
	fprintf(out, "  \"expat_version\": \"%s\",\n", XML_ExpatVersion());
	for (int p = 0; p < N_PARSERS; p++)
		fprintf(out,
		        "  \"%s\": {\"median_mbps\": %.2f, \"min_mbps\": %.2f, "
		        "\"max_mbps\": %.2f},\n",
		        parser_names[p], f[p].median, f[p].min, f[p].max);
	fprintf(out, "  \"ratio_ferry_expat\": %.3f\n}\n",
	        f[PARSER_FERRY].median / f[PARSER_EXPAT].median);
	return fclose(out) == 0;
}

int main(int argc, char **argv)
{
	const char *file = FERRY_BENCH_DATA, *json = NULL;
	unsigned samples = 7, passes = 0;
	size_t chunk = 4096;
	double seconds = 0.3;
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];
		if (i + 1 >= argc)
			usage();
		const char *val = argv[++i];
		if (strcmp(opt, "--file") == 0)
			file = val;
		else if (strcmp(opt, "--json") == 0)
			json = val;
		else if (strcmp(opt, "--samples") == 0)
			samples = (unsigned)number_arg(opt, val, 1000);
		else if (strcmp(opt, "--passes") == 0)
			passes = (unsigned)number_arg(opt, val, 100000);
		else if (strcmp(opt, "--chunk") == 0)
			chunk = number_arg(opt, val, 1 << 20);
		else if (strcmp(opt, "--seconds") == 0)
			seconds = (double)number_arg(opt, val, 60000) / 1000.0;
		else
			usage();
	}

	struct bench b = {.stanzas = -1};
	char *data;
	gsize len;
	g_autoptr(GError) error = NULL;
	if (!g_file_get_contents(file, &data, &len, &error)) {
		fprintf(stderr, "bench_parser: %s\n", error->message);
		return 1;
	}
	b.in = (struct input){data, len, chunk};
	/* The limit as ferry is configured by default; the recording's stanzas
	 * are far below it. */
	b.ferry.stream = xml_stream_new(0, 0, &ferry_callbacks, &b.ferry);
	b.expat[0].parser = XML_ParserCreate("UTF-8");
	b.expat[1].parser = XML_ParserCreateNS(NULL, ' ');
	if (b.expat[0].parser == NULL || b.expat[1].parser == NULL)
		g_error("out of memory");

	if (passes > 0) {
		for (unsigned i = 0; i < passes; i++)
			one_pass(&b, PARSER_FERRY);
		for (unsigned i = 0; i < passes; i++)
			one_pass(&b, PARSER_EXPAT);
		printf("%u passes each of %s (%zu bytes, %" G_GINT64_FORMAT " stanzas)\n", passes,
		       file, len, b.stanzas);
	} else {
		/* Warm up, check every parser once, then size the samples so
		 * each takes about SECONDS. */
		unsigned reps[N_PARSERS];
		for (int p = 0; p < N_PARSERS; p++) {
			one_pass(&b, p);
			double t0 = now();
			one_pass(&b, p);
			double t = now() - t0;
			reps[p] = (unsigned)(seconds / MAX(t, 1e-6)) + 1;
		}
		double *mbps[N_PARSERS];
		for (int p = 0; p < N_PARSERS; p++)
			mbps[p] = g_new(double, samples);
		/* Interleaved, so drift in the machine's speed hits all alike. */
		for (unsigned s = 0; s < samples; s++)
			for (int p = 0; p < N_PARSERS; p++)
				mbps[p][s] = sample(&b, p, reps[p]);
		struct figures f[N_PARSERS];
		printf("%s: %zu bytes, %" G_GINT64_FORMAT " stanzas per pass, %zu-byte chunks, "
		       "%u samples, %s\n",
		       file, len, b.stanzas, chunk, samples, XML_ExpatVersion());
		printf("%-9s %9s %9s %9s  %s\n", "parser", "median", "min", "max", "(MB/s)");
		for (int p = 0; p < N_PARSERS; p++) {
			f[p] = summarize(mbps[p], samples);
			printf("%-9s %9.1f %9.1f %9.1f  %u passes/sample\n", parser_names[p],
			       f[p].median, f[p].min, f[p].max, reps[p]);
			g_free(mbps[p]);
		}
		printf("ratio ferry/expat (medians): %.3f (target >= 0.8)\n",
		       f[PARSER_FERRY].median / f[PARSER_EXPAT].median);
		if (json != NULL && !write_json(json, &b, file, samples, f))
			return 1;
	}

	xml_stream_free(b.ferry.stream);
	XML_ParserFree(b.expat[0].parser);
	XML_ParserFree(b.expat[1].parser);
	g_free(data);
	return 0;
}
