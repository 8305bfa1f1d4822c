/*
 * The rate-limit and XDP guard directives of the configuration:
 * `ratelimit [interval I] [burst B] [leak L] [kod]` (chrony's form and
 * defaults), `denykod on|off`, `guard interface IFACE [mode
 * native|skb|auto]` (repeatable), `guard pin /DIR`, `guard serve
 * on|off` and `guard stamp on|off`. Same rules as the other directives:
 * every value range-checked, every error `NAME:LINE: what, allowed ...`;
 * cfg_guard_format writes them back in a form the parser reads to the
 * same result.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/config/cfg_guard.h"
#include "daemon/policy/ratelimit.h"

#define CFG_FORM_RATELIMIT "ratelimit [interval -19..12] [burst 1..255] [leak 0..16] [kod]"
#define CFG_FORM_GUARD                                                                             \
	"guard interface IFACE [mode native|skb|auto] | guard pin /DIR | guard serve on|off | "    \
	"guard stamp on|off"
#define CFG_GUARD_PIN_DEFAULT "/sys/fs/bpf/horod" /* GUARD_PIN_DEFAULT of bpf/guard.h */

static const char *const cfg_xdp_modes[] = {"auto", "native", "skb"}; /* by enum cfg_xdp_mode */

void cfg_guard_defaults(struct cfg_ratelimit *rl, struct cfg_guard *g)
{
	rl->enabled = 0;
	rl->interval = RL_DEFAULT_INTERVAL;
	rl->burst = RL_DEFAULT_BURST;
	rl->leak = RL_DEFAULT_LEAK;
	rl->kod = 0;
	rl->deny_kod = 0;
	g->n_ifs = 0;
	snprintf(g->pin, sizeof(g->pin), "%s", CFG_GUARD_PIN_DEFAULT);
	g->pin_keep = 0;
	g->serve = 0;
	g->stamp = 0;
}

int cfg_do_ratelimit(struct cfg_parser *p, char **tok, int ntok)
{
	static const struct {
		const char *name;
		long min, max;
	} opts[] = {
		{"interval", RL_MIN_INTERVAL, RL_MAX_INTERVAL},
		{"burst", 1, RL_MAX_BURST},
		{"leak", 0, RL_MAX_LEAK},
	};
	long val[3] = {RL_DEFAULT_INTERVAL, RL_DEFAULT_BURST, RL_DEFAULT_LEAK};
	int seen[3] = {0, 0, 0}, kod = 0, i, j, r;
	char q[CFG_QUOTE_MAX];

	for (i = 1; i < ntok; i++) {
		if (strcmp(tok[i], "kod") == 0) {
			if (kod)
				return cfg_fail(
					p, "'kod' given twice, allowed once: " CFG_FORM_RATELIMIT);
			kod = 1;
			continue;
		}
		for (j = 0; j < 3 && strcmp(tok[i], opts[j].name) != 0; j++)
			;
		if (j == 3)
			return cfg_fail(
				p, "unknown ratelimit option '%s', allowed: " CFG_FORM_RATELIMIT,
				ntp_quote(tok[i], q, sizeof(q)));
		if (seen[j])
			return cfg_fail(p, "'%s' given twice, allowed once: " CFG_FORM_RATELIMIT,
					opts[j].name);
		if (i + 1 >= ntok)
			return cfg_fail(p, "'%s' needs a number, allowed %ld-%ld", opts[j].name,
					opts[j].min, opts[j].max);
		r = cfg_int(tok[i + 1], opts[j].min, opts[j].max, &val[j]);
		if (r == -1)
			return cfg_fail(p, "bad %s '%s', allowed %ld-%ld", opts[j].name,
					ntp_quote(tok[i + 1], q, sizeof(q)), opts[j].min,
					opts[j].max);
		if (r == -2)
			return cfg_fail(p, "%s %s out of range, allowed %ld-%ld", opts[j].name,
					ntp_quote(tok[i + 1], q, sizeof(q)), opts[j].min,
					opts[j].max);
		seen[j] = 1;
		i++;
	}
	if (cfg_once(p, &p->seen_ratelimit, "ratelimit") < 0)
		return -1;
	p->c->rl.enabled = 1;
	p->c->rl.interval = (int)val[0];
	p->c->rl.burst = (int)val[1];
	p->c->rl.leak = (int)val[2];
	p->c->rl.kod = kod;
	return 0;
}

int cfg_do_denykod(struct cfg_parser *p, char **tok, int ntok)
{
	char q[CFG_QUOTE_MAX];
	int on;

	if (ntok < 2)
		return cfg_fail(p, "'denykod' needs on or off, allowed: denykod on|off");
	if (ntok > 2)
		return cfg_extra(p, tok[2], "denykod on|off");
	if (strcmp(tok[1], "on") == 0)
		on = 1;
	else if (strcmp(tok[1], "off") == 0)
		on = 0;
	else
		return cfg_fail(p, "bad denykod '%s', allowed: denykod on|off",
				ntp_quote(tok[1], q, sizeof(q)));
	if (cfg_once(p, &p->seen_denykod, "denykod") < 0)
		return -1;
	p->c->rl.deny_kod = on;
	return 0;
}

/* `guard pin /DIR [keep]`, once. */
static int cfg_guard_pin(struct cfg_parser *p, char **tok, int ntok)
{
	char q[CFG_QUOTE_MAX];
	int keep = ntok > 3 && strcmp(tok[3], "keep") == 0;
	size_t len;

	if (ntok < 3)
		return cfg_fail(p, "'guard pin' needs a directory, allowed: guard pin /DIR [keep]");
	if (ntok > 3 + keep)
		return cfg_extra(p, tok[3 + keep], "guard pin /DIR [keep]");
	len = strlen(tok[2]);
	if (tok[2][0] != '/')
		return cfg_fail(p, "guard pin '%s' is not an absolute path, allowed: /DIR",
				ntp_quote(tok[2], q, sizeof(q)));
	if (len >= CFG_PATH_MAX)
		return cfg_fail(p, "guard pin path of %zu bytes too long, allowed at most %d bytes",
				len, CFG_PATH_MAX - 1);
	if (cfg_once(p, &p->seen_guard_pin, "guard pin") < 0)
		return -1;
	memcpy(p->c->guard.pin, tok[2], len + 1);
	p->c->guard.pin_keep = keep;
	return 0;
}

/* `guard serve|stamp on|off` (tok[1]), once each (SEEN): into *OUT. */
static int cfg_guard_onoff(struct cfg_parser *p, char **tok, int ntok, int *seen, int *out)
{
	char q[CFG_QUOTE_MAX];
	int on;

	if (ntok < 3)
		return cfg_fail(p, "'guard %s' needs on or off, allowed: guard %s on|off", tok[1],
				tok[1]);
	if (ntok > 3) {
		snprintf(q, sizeof(q), "guard %s on|off", tok[1]);
		return cfg_extra(p, tok[3], q);
	}
	if (strcmp(tok[2], "on") == 0)
		on = 1;
	else if (strcmp(tok[2], "off") == 0)
		on = 0;
	else
		return cfg_fail(p, "bad guard %s '%s', allowed: guard %s on|off", tok[1],
				ntp_quote(tok[2], q, sizeof(q)), tok[1]);
	snprintf(q, sizeof(q), "guard %s", tok[1]);
	if (cfg_once(p, seen, q) < 0)
		return -1;
	*out = on;
	return 0;
}

int cfg_do_guard(struct cfg_parser *p, char **tok, int ntok)
{
	struct cfg_guard *g = &p->c->guard;
	char q[CFG_QUOTE_MAX];
	size_t len;
	int i, mode = CFG_XDP_AUTO;

	if (ntok < 2)
		return cfg_fail(
			p,
			"'guard' needs interface, pin, serve or stamp, allowed: " CFG_FORM_GUARD);
	if (strcmp(tok[1], "pin") == 0)
		return cfg_guard_pin(p, tok, ntok);
	if (strcmp(tok[1], "serve") == 0)
		return cfg_guard_onoff(p, tok, ntok, &p->seen_guard_serve, &p->c->guard.serve);
	if (strcmp(tok[1], "stamp") == 0)
		return cfg_guard_onoff(p, tok, ntok, &p->seen_guard_stamp, &p->c->guard.stamp);
	if (strcmp(tok[1], "interface") != 0)
		return cfg_fail(p, "unknown guard option '%s', allowed: " CFG_FORM_GUARD,
				ntp_quote(tok[1], q, sizeof(q)));
	if (ntok < 3)
		return cfg_fail(p,
				"'guard interface' needs an interface, allowed: " CFG_FORM_GUARD);
	len = strlen(tok[2]);
	if (len >= CFG_IFNAME_MAX || strchr(tok[2], '/'))
		return cfg_fail(p, "bad interface name '%s', allowed: 1-%d characters, no '/'",
				ntp_quote(tok[2], q, sizeof(q)), CFG_IFNAME_MAX - 1);
	if (ntok >= 4) {
		if (strcmp(tok[3], "mode") != 0)
			return cfg_fail(
				p, "unknown guard interface option '%s', allowed: " CFG_FORM_GUARD,
				ntp_quote(tok[3], q, sizeof(q)));
		if (ntok < 5)
			return cfg_fail(p, "'mode' needs a value, allowed: native skb auto");
		for (mode = 0; mode < 3 && strcmp(tok[4], cfg_xdp_modes[mode]) != 0; mode++)
			;
		if (mode == 3)
			return cfg_fail(p, "unknown guard mode '%s', allowed: native skb auto",
					ntp_quote(tok[4], q, sizeof(q)));
		if (ntok > 5)
			return cfg_extra(p, tok[5], CFG_FORM_GUARD);
	}
	for (i = 0; i < g->n_ifs; i++)
		if (strcmp(g->ifs[i].name, tok[2]) == 0)
			return cfg_fail(
				p, "duplicate guard interface '%s', allowed: each interface once",
				ntp_quote(tok[2], q, sizeof(q)));
	if (g->n_ifs >= CFG_MAX_GUARD_IF)
		return cfg_fail(p, "too many guard interface lines, allowed at most %d",
				CFG_MAX_GUARD_IF);
	memcpy(g->ifs[g->n_ifs].name, tok[2], len + 1);
	g->ifs[g->n_ifs++].mode = (enum cfg_xdp_mode)mode;
	return 0;
}

void cfg_guard_format(const struct cfg_ratelimit *rl, const struct cfg_guard *g,
		      struct ntp_text *out)
{
	int i, m;

	if (rl->enabled)
		ntp_textf(out, "ratelimit interval %d burst %d leak %d%s\n", rl->interval,
			  rl->burst, rl->leak, rl->kod ? " kod" : "");
	else
		ntp_textf(out, "# ratelimit: off\n");
	ntp_textf(out, "denykod %s\n", rl->deny_kod ? "on" : "off");
	if (g->n_ifs == 0)
		ntp_textf(out, "# guard: no interface (workers filter)\n");
	for (i = 0; i < g->n_ifs; i++) {
		m = (unsigned int)g->ifs[i].mode < 3 ? (int)g->ifs[i].mode : 0;
		ntp_textf(out, "guard interface %s mode %s\n", g->ifs[i].name, cfg_xdp_modes[m]);
	}
	ntp_textf(out, "guard pin %s%s\n", g->pin, g->pin_keep ? " keep" : "");
	ntp_textf(out, "guard serve %s\n", g->serve ? "on" : "off");
	ntp_textf(out, "guard stamp %s\n", g->stamp ? "on" : "off");
}
