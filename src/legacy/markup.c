/* markup: plain text <-> libpurple HTML. See include/ferry/markup.h. */
#include "config.h"
#include "ferry/markup.h"

#include <glib.h>
#include <stdbool.h>
#include <string.h>

char *markup_from_text(const char *text)
{
	GString *out = g_string_sized_new(strlen(text) + 16);
	for (const char *p = text; *p != '\0'; p++) {
		switch (*p) {
		case '<':
			g_string_append(out, "&lt;");
			break;
		case '>':
			g_string_append(out, "&gt;");
			break;
		case '&':
			g_string_append(out, "&amp;");
			break;
		case '"':
			g_string_append(out, "&quot;");
			break;
		default:
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

static const struct {
	const char *name;
	const char *text;
} entities[] = {
    {"lt", "<"}, {"gt", ">"}, {"amp", "&"}, {"quot", "\""}, {"apos", "'"}, {"nbsp", " "},
};

/* true when XML 1.0 can carry C (its Char production). */
static bool xml_char(gunichar c)
{
	return c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c <= 0xD7FF) ||
	       (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

/* What a numeric character reference to C stands for: C itself, or U+FFFD
 * for a control character (a terminal escape such as &#x1b; must not reach
 * a client; TAB, LF and CR stay) and for what XML cannot carry. */
static gunichar numeric_char(guint64 c)
{
	if (c == '\t' || c == '\n' || c == '\r')
		return (gunichar)c;
	if (c > 0x10FFFF || c < 0x20 || (c >= 0x7F && c <= 0x9F) || !xml_char((gunichar)c))
		return 0xFFFD;
	return (gunichar)c;
}

/* Decodes the entity at P ('&', before END); on success appends it and
 * returns the length consumed, else 0. Looks at most 13 bytes ahead, so a
 * long run of '&' costs linear time. */
static size_t decode_entity(const char *p, const char *end, GString *out)
{
	const char *semi = memchr(p, ';', MIN((size_t)(end - p), 13));
	if (semi == NULL)
		return 0;
	size_t len = (size_t)(semi - p) + 1;
	if (p[1] == '#') {
		bool hex = p[2] == 'x' || p[2] == 'X';
		const char *digits = hex ? p + 3 : p + 2;
		if (digits == semi || !(hex ? g_ascii_isxdigit(*digits) : g_ascii_isdigit(*digits)))
			return 0;
		char *stop = NULL;
		guint64 c = g_ascii_strtoull(digits, &stop, hex ? 16 : 10);
		if (stop != semi)
			return 0;
		g_string_append_unichar(out, numeric_char(c));
		return len;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(entities); i++) {
		size_t n = strlen(entities[i].name);
		if (n + 2 == len && strncmp(p + 1, entities[i].name, n) == 0) {
			g_string_append(out, entities[i].text);
			return len;
		}
	}
	return 0;
}

/* true when the tag starting at P ('<') is a line break. */
static bool is_break(const char *p, size_t len)
{
	return (len >= 4 && g_ascii_strncasecmp(p, "<br", 3) == 0 &&
	        (p[3] == '>' || p[3] == '/' || p[3] == ' '));
}

/* The end of the first MAX bytes of TEXT (LEN bytes) on a character
 * boundary. */
static size_t utf8_cut(const char *text, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/* ---- XEP-0393 styling of bold, italic and struck-through text ------------------
 *
 * prpl-irc turns mIRC formatting codes into tags (<B>, <I>, <U>, <FONT>),
 * prpl-jabber XHTML-IM into the same. The styled conversion writes spans
 * as XEP-0393 directives instead of dropping them: bold `*`, italic `_`,
 * struck `~`; others are stripped. A directive is only written where a
 * client will read it as one: the opening one at the start of a line,
 * after whitespace or after another opening directive, next to the first
 * non-space character of the span; the closing one right after its last
 * non-space character. A span that cannot be written so (it starts inside
 * a word, or holds only spaces) is left unmarked. Spans do not cross
 * lines (XEP-0393 §5.2): one open at a line break is closed before it and
 * opened again on the next line. */

enum { STYLE_KINDS = 3 };
static const char style_marks[STYLE_KINDS] = {'*', '_', '~'};

struct styler {
	bool on;                   /* styled conversion */
	guint depth[STYLE_KINDS];  /* open tags of each kind */
	bool pending[STYLE_KINDS]; /* open, its directive not written yet */
	bool written[STYLE_KINDS]; /* its opening directive is in the output */
	guint order[STYLE_KINDS];  /* when its tag opened: directives go in that order */
	guint opened;              /* tags opened so far */
	size_t at[STYLE_KINDS];    /* where that directive is */
};

/* The kind of the tag named at P (after '<' and any '/'), or -1. */
static int style_kind(const char *p, const char *gt)
{
	size_t n = 0;
	while (p + n < gt && g_ascii_isalpha(p[n]))
		n++;
	static const struct {
		const char *name;
		int kind;
	} names[] = {{"b", 0}, {"strong", 0}, {"i", 1},  {"em", 1},
	             {"s", 2}, {"strike", 2}, {"del", 2}};
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (strlen(names[i].name) == n && g_ascii_strncasecmp(p, names[i].name, n) == 0)
			return names[i].kind;
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Whether an opening directive may be written at the end of OUT. */
static bool may_open(const struct styler *st, const GString *out)
{
	if (out->len == 0)
		return true;
	char last = out->str[out->len - 1];
	if (last == '\n' || is_space(last))
		return true;
	for (int k = 0; k < STYLE_KINDS; k++)
		if (st->written[k] && st->at[k] == out->len - 1)
			return true;
	return false;
}

/* Writes the pending opening directives: a visible character follows. */
static void style_flush(struct styler *st, GString *out)
{
	for (;;) {
		int k = -1;
		for (int j = 0; j < STYLE_KINDS; j++)
			if (st->pending[j] && (k < 0 || st->order[j] < st->order[k]))
				k = j;
		if (k < 0)
			break;
		st->pending[k] = false;
		if (!may_open(st, out))
			continue; /* inside a word: left unmarked */
		st->at[k] = out->len;
		st->written[k] = true;
		g_string_append_c(out, style_marks[k]);
	}
}

/* Closes kind K's span: its directive after the last non-space character. */
static void style_close(struct styler *st, GString *out, int k)
{
	if (!st->written[k])
		return;
	st->written[k] = false;
	size_t end = out->len;
	while (end > st->at[k] + 1 && is_space(out->str[end - 1]))
		end--;
	if (end == st->at[k] + 1) {
		g_string_erase(out, (gssize)st->at[k], 1); /* nothing inside */
		return;
	}
	g_string_insert_c(out, (gssize)end, style_marks[k]);
}

static void style_span(struct styler *st, GString *out, int k, bool closing)
{
	if (!closing) {
		if (st->depth[k]++ == 0) {
			st->pending[k] = true;
			st->order[k] = st->opened++;
		}
	} else if (st->depth[k] > 0 && --st->depth[k] == 0) {
		st->pending[k] = false;
		/* spans opened inside this one end with it and go on after it
		 * (prpl-irc toggles each code on its own: "<B><I>x</B>y</I>") */
		for (;;) {
			int j = -1;
			for (int i = 0; i < STYLE_KINDS; i++)
				if (i != k && st->written[i] && st->written[k] &&
				    st->at[i] > st->at[k] && (j < 0 || st->at[i] > st->at[j]))
					j = i;
			if (j < 0)
				break;
			style_close(st, out, j);
			st->pending[j] = true;
			st->order[j] = st->opened++;
		}
		style_close(st, out, k);
	}
}

static void style_tag(struct styler *st, GString *out, const char *p, const char *gt)
{
	bool closing = p[1] == '/';
	int k = style_kind(p + (closing ? 2 : 1), gt);
	if (k >= 0)
		style_span(st, out, k, closing);
}

/* A line break: open spans end here and go on from the next line. */
/* Closes every written span, innermost first; REOPEN: they go on at the
 * next visible character, in the same order. */
static void style_close_all(struct styler *st, GString *out, bool reopen)
{
	for (;;) {
		int j = -1;
		for (int i = 0; i < STYLE_KINDS; i++)
			if (st->written[i] && (j < 0 || st->at[i] > st->at[j]))
				j = i;
		if (j < 0)
			break;
		style_close(st, out, j);
		st->pending[j] = reopen;
	}
}

static void style_break(struct styler *st, GString *out)
{
	style_close_all(st, out, true);
}

static void style_end(struct styler *st, GString *out)
{
	style_close_all(st, out, false);
}

static char *convert(const char *html, size_t max_bytes, bool styled);

char *markup_to_text(const char *html)
{
	return convert(html, MARKUP_MAX_BYTES, false);
}

char *markup_to_text_max(const char *html, size_t max_bytes)
{
	return convert(html, max_bytes, false);
}

char *markup_to_styled(const char *html)
{
	return convert(html, MARKUP_MAX_BYTES, true);
}

static char *convert(const char *html, size_t max_bytes, bool styled)
{
	struct styler st = {.on = styled};
	size_t total = strlen(html);
	size_t len = max_bytes != 0 ? utf8_cut(html, total, max_bytes) : total;
	GString *out = g_string_sized_new(len);
	const char *p = html;
	const char *end = html + len;
	/* The next '>' at or after p, found once and reused: searching again
	 * from every '<' made 1 MB of '<' take 10 s. */
	const char *gt = NULL;
	bool no_gt = false;
	while (p < end) {
		if (*p == '<') {
			if (!no_gt && (gt == NULL || gt < p)) {
				gt = memchr(p, '>', (size_t)(end - p));
				no_gt = gt == NULL;
			}
			/* Only something shaped like a tag is one: "a < b" stays. */
			if (!no_gt && (g_ascii_isalpha(p[1]) || p[1] == '/' || p[1] == '!')) {
				if (is_break(p, (size_t)(gt - p) + 1)) {
					if (st.on)
						style_break(&st, out);
					g_string_append_c(out, '\n');
				} else if (st.on) {
					style_tag(&st, out, p, gt);
				}
				p = gt + 1;
				continue;
			}
		} else if (*p == '&') {
			if (st.on)
				style_flush(&st, out);
			size_t n = decode_entity(p, end, out);
			if (n > 0) {
				p += n;
				continue;
			}
		}
		/* IRC formatting codes (italic \x1d, reverse \x16, ...) that
		 * libpurple leaves raw, and any other C0 control, U+FFFE and
		 * U+FFFF: XML cannot carry them, so they are removed and the rest
		 * delivered (the serializer would make each a U+FFFD). */
		unsigned char c = (unsigned char)*p;
		if (st.on && (c == 0x1d || c == 0x1e)) {
			/* mIRC italic and strike-through, which libpurple 2.14
			 * leaves raw: toggles */
			int k = c == 0x1d ? 1 : 2;
			style_span(&st, out, k, st.depth[k] > 0);
		} else if (st.on && c == 0x0f) {
			style_end(&st, out); /* mIRC reset */
			memset(st.depth, 0, sizeof st.depth);
			memset(st.pending, 0, sizeof st.pending);
		}
		if (c == 0xEF && end - p >= 3 && (unsigned char)p[1] == 0xBF &&
		    ((unsigned char)p[2] == 0xBE || (unsigned char)p[2] == 0xBF)) {
			p += 3;
			continue;
		}
		if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') {
			if (st.on && c == '\n')
				style_break(&st, out);
			else if (st.on && c != ' ' && c != '\t' && c != '\r')
				style_flush(&st, out);
			g_string_append_c(out, *p);
		}
		p++;
	}
	if (st.on)
		style_end(&st, out);
	if (len < total)
		g_string_append_printf(
		    out, "\n[message truncated by the transport: %zu bytes not shown]",
		    total - len);
	return g_string_free(out, FALSE);
}
