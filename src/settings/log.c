/* log: a GLib log writer with a level filter, shared by ferry and
 * ferry-worker; the journal when stderr is the journal, else one line per
 * entry on stderr, the same for both programs. */
#include "config.h"
#include "ferry/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum settings_log_level max_level = SETTINGS_LOG_INFO;
static const char *program = "ferry";
static bool installed;

static const char *const level_names[] = {"error", "warning", "message", "info", "debug"};

static enum settings_log_level level_of(GLogLevelFlags flags)
{
	if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
		return SETTINGS_LOG_ERROR;
	if (flags & G_LOG_LEVEL_WARNING)
		return SETTINGS_LOG_WARNING;
	if (flags & G_LOG_LEVEL_MESSAGE)
		return SETTINGS_LOG_MESSAGE;
	if (flags & G_LOG_LEVEL_INFO)
		return SETTINGS_LOG_INFO;
	return SETTINGS_LOG_DEBUG;
}

/* Bidirectional controls: they reorder what a terminal shows, so a name
 * could make a line read as another. */
static bool is_bidi_control(gunichar c)
{
	return c == 0x061c || c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069);
}

/* Appends LEN bytes of TEXT to OUT, escaped so that a terminal shows them
 * as they are and never acts on them: \n, \r, \xNN for other C0
 * controls, DEL and bytes that are not UTF-8 (a raw 0x9b is CSI to an
 * 8-bit terminal), \uNNNN for C1 controls (U+009B is CSI too) and bidi
 * controls. TAB stays. */
static void escape_into(GString *out, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		unsigned char b = (unsigned char)*p;
		if (b < 0x80) {
			if (b == '\n')
				g_string_append(out, "\\n");
			else if (b == '\r')
				g_string_append(out, "\\r");
			else if ((b < 0x20 && b != '\t') || b == 0x7f)
				g_string_append_printf(out, "\\x%02x", b);
			else
				g_string_append_c(out, (char)b);
			p++;
			continue;
		}
		gunichar c = g_utf8_get_char_validated(p, end - p);
		if (c == (gunichar)-1 || c == (gunichar)-2) {
			g_string_append_printf(out, "\\x%02x", b);
			p++;
			continue;
		}
		const char *next = g_utf8_next_char(p);
		if (c <= 0x9f || is_bidi_control(c))
			g_string_append_printf(out, "\\u%04x", (unsigned)c);
		else
			g_string_append_len(out, p, next - p);
		p = next;
	}
}

char *log_escape(const char *text, gssize len)
{
	GString *out = g_string_new(NULL);
	if (text != NULL)
		escape_into(out, text, len < 0 ? strlen(text) : (size_t)len);
	return g_string_free(out, FALSE);
}

char *log_format_line(const char *prog, int pid, GDateTime *when, enum settings_log_level level,
                      const char *message)
{
	g_autofree char *stamp = g_date_time_format(when, "%Y-%m-%d %H:%M:%S");
	GString *line = g_string_new(NULL);
	g_string_printf(line, "%s.%03d %s[%d] %s: ", stamp,
	                g_date_time_get_microsecond(when) / 1000, prog, pid, level_names[level]);
	if (message == NULL)
		message = "(no message)";
	/* One entry, one line: trailing newlines (libpurple's debug lines end
	 * with one) go, embedded ones and other control characters are
	 * escaped, so a reader (or grep) never takes a continuation line for
	 * an entry of its own, and a terminal never acts on what a legacy
	 * name or text carried. */
	size_t len = strlen(message);
	while (len > 0 && (message[len - 1] == '\n' || message[len - 1] == '\r'))
		len--;
	escape_into(line, message, len);
	g_string_append_c(line, '\n');
	return g_string_free(line, FALSE);
}

gsize log_journal_fields(enum settings_log_level level, const char *prog, const GLogField *fields,
                         gsize n_fields, GLogField *out)
{
	static const char *const priorities[] = {"3", "4", "5", "6", "7"};
	gsize n = 0;
	bool identified = false;
	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "PRIORITY") == 0)
			continue;
		if (g_strcmp0(fields[i].key, "SYSLOG_IDENTIFIER") == 0)
			identified = true;
		out[n++] = fields[i];
	}
	out[n++] = (GLogField){"PRIORITY", priorities[level], -1};
	if (!identified)
		out[n++] = (GLogField){"SYSLOG_IDENTIFIER", prog, -1};
	return n;
}

static GLogWriterOutput writer(GLogLevelFlags flags, const GLogField *fields, gsize n_fields,
                               gpointer user_data)
{
	enum settings_log_level level = level_of(flags);
	if (level > max_level)
		return G_LOG_WRITER_HANDLED;
	if (g_log_writer_is_journald(fileno(stderr))) {
		/* The journal takes PRIORITY from the fields, where GLib put 4 for a
		 * critical (ferry's error level; G_LOG_LEVEL_ERROR would abort):
		 * ferry's own mapping replaces it, error = 3. */
		GLogField *jfields = g_newa(GLogField, n_fields + 2);
		gsize n = log_journal_fields(level, program, fields, n_fields, jfields);
		/* every value escaped as on stderr: journalctl shows them too */
		char **escaped = g_new0(char *, n + 1);
		for (gsize i = 0; i < n; i++) {
			escaped[i] = log_escape(jfields[i].value, jfields[i].length);
			jfields[i].value = escaped[i];
			jfields[i].length = -1;
		}
		GLogWriterOutput out = g_log_writer_journald(flags, jfields, n, user_data);
		g_strfreev(escaped);
		if (out == G_LOG_WRITER_HANDLED)
			return G_LOG_WRITER_HANDLED;
	}

	const char *message = NULL;
	for (gsize i = 0; i < n_fields; i++)
		if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
			message = fields[i].value;
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *line = log_format_line(program, (int)getpid(), now, level, message);
	/* One write per entry: ferry and its workers share this stderr, and a
	 * single write(2) of a line to a pipe or file is not interleaved. */
	fputs(line, stderr);
	fflush(stderr);
	return G_LOG_WRITER_HANDLED;
}

void log_init(const char *prog, enum settings_log_level level)
{
	program = prog;
	max_level = level;
	if (!installed) /* GLib allows setting the writer once only */
		g_log_set_writer_func(writer, NULL, NULL);
	installed = true;
}

void log_set_level(enum settings_log_level level)
{
	max_level = level;
}

bool log_enabled(enum settings_log_level level)
{
	return level <= max_level;
}

bool log_level_parse(const char *name, enum settings_log_level *level)
{
	for (gsize i = 0; name != NULL && i < G_N_ELEMENTS(level_names); i++) {
		if (g_ascii_strcasecmp(name, level_names[i]) == 0) {
			*level = (enum settings_log_level)i;
			return true;
		}
	}
	return false;
}

const char *log_level_name(enum settings_log_level level)
{
	return level_names[level];
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	const GLogField fields[] = {
	    {"GLIB_DOMAIN", G_LOG_DOMAIN, -1},
	    {"MESSAGE", text, -1},
	};
	/* CRITICAL, through the structured API: g_critical() would abort under
	 * G_DEBUG=fatal-criticals, g_log_structured_array() aborts only for
	 * G_LOG_LEVEL_ERROR. The writer adds PRIORITY. */
	g_log_structured_array(G_LOG_LEVEL_CRITICAL, fields, G_N_ELEMENTS(fields));
}
