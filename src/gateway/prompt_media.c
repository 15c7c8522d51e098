/* prompt_media: picture sniffing, BOB data and QR drawing (prompt_media.h). */
#include "config.h"
#include "prompt_media.h"

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
