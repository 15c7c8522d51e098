/* prompt_media: the pictures and QR codes of prompts. A picture's format
 * comes from its magic bytes (libpurple hands over raw bytes with no
 * type); PNG, JPEG and GIF go as XEP-0231 BOB <data/>, anything else
 * (purple-discord's TGA) is dropped. A QR code's text is drawn with
 * libqrencode in Unicode blocks, two module rows per line. */
#ifndef FERRY_GATEWAY_PROMPT_MEDIA_H
#define FERRY_GATEWAY_PROMPT_MEDIA_H

#include <glib.h>
#include <stdbool.h>

#include "ferry/dataform.h"
#include "ferry/stanza.h"

#define NS_BOB "urn:xmpp:bob" /* XEP-0231 */
/* A BOB <data/> goes inline with the form only under this size (XEP-0231
 * §2: 8 KiB; Gajim drops more than 10 000 bytes); larger ones only through
 * the BOB iq. */
#define PROMPT_BOB_INLINE_MAX 8192
/* How long a client may cache a picture (seconds): prompts are short-lived. */
#define PROMPT_BOB_MAX_AGE "600"

/* The MIME type of picture DATA (LEN bytes) from its magic bytes:
 * "image/png", "image/jpeg", "image/gif", or NULL (unknown, TGA). Static. */
const char *prompt_media_sniff(const guint8 *data, gsize len);
/* The XEP-0231 cid of DATA: "sha1+<hex>@bob.xmpp.org". Caller frees. */
char *prompt_media_cid(const guint8 *data, gsize len);
/* <data xmlns='urn:xmpp:bob' cid=CID type=TYPE max-age=...>base64</data>.
 * Caller frees. */
struct stanza *prompt_media_bob(const guint8 *data, gsize len, const char *type, const char *cid);
/* TEXT drawn as a QR code: lines of ' ', '▀', '▄', '█' (dark modules as
 * blocks, a quiet zone of two modules), NULL-terminated; NULL when it
 * cannot be encoded (too long). Caller frees with g_strfreev. */
char **prompt_media_qr_lines(const char *text);
/* true when field VAR (with a text VALUE) holds a QR code's text:
 * qr_string, qr_code, or any var containing "qr". */
bool prompt_media_is_qr_var(const char *var);

/* The form of a PROMPT's field tables FIELDS (WORKER_PROMPT_FIELD_*),
 * TITLE and INSTRUCTIONS: a field per table (types, labels, descriptions,
 * defaults, required, integers, options); a picture as a fixed field with
 * its text alternative and an XEP-0221 <media/> to its BOB cid, whose
 * <data/> is appended to BOBS (an unknown format, TGA, as a note); a QR
 * code's text also drawn. LOG_NAME names the prompt in logs. Caller
 * frees. */
struct dataform *prompt_media_form(GPtrArray *fields, const char *title, const char *instructions,
                                   GPtrArray *bobs, const char *log_name);
/* TITLE (when not empty) and each line of INSTRUCTIONS into FORM. */
void prompt_media_heading(struct dataform *form, const char *title, const char *instructions);

#endif
