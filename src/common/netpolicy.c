/* netpolicy: internal addresses and the admin's list of allowed legacy
 * servers. See include/ferry/netpolicy.h. */
#include "config.h"
#include "ferry/netpolicy.h"

#include <string.h>

struct netpolicy {
	GPtrArray *names; /* char *, lower case, no final '.' */
	GPtrArray *masks; /* GInetAddressMask * */
	bool any;         /* "*": any public server may be chosen */
	char *text;       /* for messages */
};

/* The internal ranges, IPv4 then IPv6 (RFC 6890's special-purpose
 * registries, the parts a server on the internet never uses). */
static const struct {
	const char *cidr;
	const char *kind;
} internal[] = {
    {"0.0.0.0/8", "\"this network\""},
    {"10.0.0.0/8", "private"},
    {"100.64.0.0/10", "shared (CGNAT)"},
    {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local"},
    {"172.16.0.0/12", "private"},
    {"192.0.0.0/24", "IETF protocol assignment"},
    {"192.168.0.0/16", "private"},
    {"198.18.0.0/15", "benchmarking"},
    {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved"},
    {"::/128", "unspecified"},
    {"::1/128", "loopback"},
    {"fc00::/7", "unique-local"},
    {"fe80::/10", "link-local"},
    {"fec0::/10", "site-local"},
    {"ff00::/8", "multicast"},
};

/* An IPv4 address carried in an IPv6 one: ::ffff:a.b.c.d (mapped),
 * ::a.b.c.d (compatible, deprecated) and 64:ff9b::a.b.c.d (NAT64). NULL
 * for any other address. Caller unrefs. */
static GInetAddress *embedded_v4(GInetAddress *a)
{
	if (g_inet_address_get_family(a) != G_SOCKET_FAMILY_IPV6)
		return NULL;
	const guint8 *b = g_inet_address_to_bytes(a);
	static const guint8 mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const guint8 compat[12] = {0};
	static const guint8 nat64[12] = {0, 0x64, 0xff, 0x9b};
	bool v4 = memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0 ||
	          (memcmp(b, compat, 12) == 0 && (b[12] | b[13] | b[14]) != 0);
	return v4 ? g_inet_address_new_from_bytes(b + 12, G_SOCKET_FAMILY_IPV4) : NULL;
}

static GInetAddressMask *parse_mask(const char *text);

static bool in_mask(const char *cidr, GInetAddress *a)
{
	g_autoptr(GInetAddressMask) m = parse_mask(cidr);
	return m != NULL && g_inet_address_mask_get_family(m) == g_inet_address_get_family(a) &&
	       g_inet_address_mask_matches(m, a);
}

const char *netpolicy_internal_kind(GInetAddress *address)
{
	g_autoptr(GInetAddress) v4 = embedded_v4(address);
	GInetAddress *a = v4 != NULL ? v4 : address;
	for (gsize i = 0; i < G_N_ELEMENTS(internal); i++)
		if (in_mask(internal[i].cidr, a))
			return internal[i].kind;
	if (g_inet_address_get_family(a) == G_SOCKET_FAMILY_IPV4 &&
	    g_inet_address_get_is_multicast(a))
		return "multicast";
	return NULL;
}

/* A host name as DNS takes it: labels of letters, digits, '-' and '_'. */
static bool host_name_ok(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 253 || s[0] == '.' || strstr(s, "..") != NULL)
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.' && *p != '_')
			return false;
	return true;
}

static char *fold_name(const char *host)
{
	char *n = g_ascii_strdown(host, -1);
	size_t len = strlen(n);
	if (len > 1 && n[len - 1] == '.')
		n[len - 1] = '\0';
	return n;
}

/* "ADDRESS" or "ADDRESS/LENGTH" as a mask; NULL if it is neither. (The
 * length is checked here: GLib's parser warns, through GObject, about a
 * length beyond 128 before it fails.) */
static GInetAddressMask *parse_mask(const char *text)
{
	g_auto(GStrv) parts = g_strsplit(text, "/", 2);
	g_autoptr(GInetAddress) a = g_inet_address_new_from_string(parts[0]);
	if (a == NULL)
		return NULL;
	guint max = g_inet_address_get_family(a) == G_SOCKET_FAMILY_IPV4 ? 32 : 128;
	guint64 len = max;
	if (parts[1] != NULL && !g_ascii_string_to_unsigned(parts[1], 10, 0, max, &len, NULL))
		return NULL;
	return g_inet_address_mask_new(a, (guint)len, NULL);
}

struct netpolicy *netpolicy_new(const char *const *entries, GError **error)
{
	struct netpolicy *p = g_new0(struct netpolicy, 1);
	p->names = g_ptr_array_new_with_free_func(g_free);
	p->masks = g_ptr_array_new_with_free_func(g_object_unref);
	GString *text = g_string_new(NULL);
	for (gsize i = 0; entries != NULL && entries[i] != NULL; i++) {
		const char *e = entries[i];
		g_string_append_printf(text, "%s%s", text->len > 0 ? ", " : "", e);
		/* An address is a mask of its full length. */
		GInetAddressMask *m = parse_mask(e);
		if (strcmp(e, "*") == 0) {
			p->any = true;
		} else if (m != NULL) {
			g_ptr_array_add(p->masks, m);
		} else if (strchr(e, '/') == NULL && strchr(e, ':') == NULL && host_name_ok(e)) {
			g_ptr_array_add(p->names, fold_name(e));
		} else {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			            "'%s' is not a host name, an address, a CIDR or * "
			            "(e.g. irc.example.net, 192.0.2.7, 10.1.0.0/16)",
			            e);
			g_string_free(text, TRUE);
			netpolicy_free(p);
			return NULL;
		}
	}
	p->text = g_string_free(text, FALSE);
	return p;
}

void netpolicy_free(struct netpolicy *p)
{
	if (p == NULL)
		return;
	g_ptr_array_unref(p->names);
	g_ptr_array_unref(p->masks);
	g_free(p->text);
	g_free(p);
}

bool netpolicy_address_listed(const struct netpolicy *p, GInetAddress *address)
{
	g_autoptr(GInetAddress) v4 = embedded_v4(address);
	for (guint i = 0; i < p->masks->len; i++) {
		GInetAddressMask *m = g_ptr_array_index(p->masks, i);
		if (g_inet_address_mask_get_family(m) == g_inet_address_get_family(address) &&
		    g_inet_address_mask_matches(m, address))
			return true;
		if (v4 != NULL && g_inet_address_mask_get_family(m) == G_SOCKET_FAMILY_IPV4 &&
		    g_inet_address_mask_matches(m, v4))
			return true;
	}
	return false;
}

bool netpolicy_host_listed(const struct netpolicy *p, const char *host)
{
	if (host == NULL || *host == '\0')
		return false;
	/* [::1] as some fields write an IPv6 literal */
	g_autofree char *bare = NULL;
	size_t len = strlen(host);
	if (host[0] == '[' && host[len - 1] == ']')
		bare = g_strndup(host + 1, len - 2);
	else
		bare = g_strdup(host);
	g_autoptr(GInetAddress) a = g_inet_address_new_from_string(bare);
	if (a != NULL)
		return netpolicy_address_listed(p, a);
	g_autofree char *name = fold_name(bare);
	for (guint i = 0; i < p->names->len; i++)
		if (strcmp(g_ptr_array_index(p->names, i), name) == 0)
			return true;
	return false;
}

bool netpolicy_server_allowed(const struct netpolicy *p, const char *host)
{
	if (netpolicy_host_listed(p, host))
		return true;
	if (!p->any || host == NULL || *host == '\0')
		return false;
	g_autoptr(GInetAddress) a = g_inet_address_new_from_string(host);
	return a == NULL || netpolicy_internal_kind(a) == NULL;
}

const char *netpolicy_describe(const struct netpolicy *p)
{
	return p->text;
}
