/* netpolicy: which legacy servers ferry's workers may connect to.
 *
 * Internal addresses — loopback, private, link-local, shared (CGNAT),
 * "this network", multicast, IPv6 unique-local, and the IPv4-mapped,
 * -compatible and NAT64 forms of all of these — are refused unless the
 * admin lists them in [legacy] ferry.allowed_servers: host names (the
 * addresses they resolve to are then allowed), addresses and CIDRs. A user
 * on the network must not be able to point the shared worker at the
 * admin's internal services. Unset, the list is the protocol's preset
 * server (IRC `server`), so a transport pinned to one network needs no
 * list. ferry checks the account's server field against the list at
 * registration (regform.c); the worker checks every resolve (dns.c) and
 * every connect (its connect() interposition), which also see literal
 * addresses and the servers a protocol is redirected to.
 */
#ifndef FERRY_NETPOLICY_H
#define FERRY_NETPOLICY_H

#include <gio/gio.h>
#include <stdbool.h>

struct netpolicy;

/* ENTRIES: NULL-terminated host names, addresses, CIDRs, and "*" (any
 * public server may be chosen at registration; it lists no internal
 * address). May be NULL: nothing listed. NULL with ERROR naming the entry
 * that is none of these. */
struct netpolicy *netpolicy_new(const char *const *entries, GError **error);
void netpolicy_free(struct netpolicy *policy);

/* Whether HOST (a name or an address literal, as a user typed it) is
 * listed: a listed name (ASCII case-insensitive, a final '.' ignored), or
 * an address within a listed address or CIDR. */
bool netpolicy_host_listed(const struct netpolicy *policy, const char *host);

/* Whether a user may choose HOST as their server: listed, or "*" is and
 * HOST is a name or a public address. (The names "*" lets through still
 * get no internal address from the worker.) */
bool netpolicy_server_allowed(const struct netpolicy *policy, const char *host);

/* Whether ADDRESS is within a listed address or CIDR. */
bool netpolicy_address_listed(const struct netpolicy *policy, GInetAddress *address);

/* What kind of internal address ADDRESS is ("loopback", "private", ...),
 * or NULL for a public one. Static string. */
const char *netpolicy_internal_kind(GInetAddress *address);

/* The entries as the admin wrote them, joined with ", " (for messages).
 * Borrowed. */
const char *netpolicy_describe(const struct netpolicy *policy);

#endif
