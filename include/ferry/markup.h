/* markup: message text between XMPP (plain text) and libpurple (HTML).
 *
 * Outgoing plain text is escaped so libpurple passes it on literally: a
 * typed "<b>" arrives as those three characters, and "?OTR:..." or OTR's
 * whitespace tag arrive byte for byte. Incoming HTML is turned into plain
 * text: tags dropped (<br> becomes a newline), entities decoded (a numeric
 * reference to a control character other than TAB, LF and CR, or to one
 * XML cannot carry, becomes U+FFFD), characters XML cannot carry (C0
 * controls such as raw IRC formatting codes, U+FFFE, U+FFFF) dropped; other
 * text passes unchanged. Linear time.
 *
 * Text from a worker is converted on ferry's main loop: only its first
 * MARKUP_MAX_BYTES are, and "[message truncated by the transport: N bytes
 * not shown]" is appended on a line of its own. 256 KiB: nothing longer
 * could reach a user anyway ([component] max_outbound_bytes, 256 KiB by
 * default, bounds each stanza ferry writes).
 */
#ifndef FERRY_MARKUP_H
#define FERRY_MARKUP_H

#include <stddef.h>

#define MARKUP_MAX_BYTES (256 * 1024)

/* Plain text -> libpurple markup. Caller frees. */
char *markup_from_text(const char *text);

/* libpurple markup -> plain text, the first MARKUP_MAX_BYTES of HTML (see
 * above). Caller frees. */
char *markup_to_text(const char *html);

/* The same with the bound MAX_BYTES (0: none). */
char *markup_to_text_max(const char *html, size_t max_bytes);

/* As markup_to_text(), but bold, italic and struck-through spans (IRC's
 * formatting codes, as libpurple gives them) become XEP-0393 styling:
 * `*bold*`, `_italic_`, `~struck~`, where a client reads them so (the
 * opening directive at a line's start, after a space or another opening
 * directive; no span across a line break); other formatting is stripped.
 * Caller frees. */
char *markup_to_styled(const char *html);

#endif
