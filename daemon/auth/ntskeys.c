/*
 * The NTS server keys (ntskeys.h): the file format, rotation, and the
 * lock-free publication with epoch-based reclamation.
 *
 * The file, text, one key per line after a version line:
 *
 *   horod-ntskeys 1
 *   key previous 5d2c01aa 1733011200 <64 hex digits>
 *   key current  9e31f4c7 1733616000 <64 hex digits>
 *   key next     0c8b7d52 0          <64 hex digits>
 *
 * (role, id in hex, the second it became current, the key). Lines that
 * start with `#` are comments.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include "clock/driftfile.h"
#include "daemon/auth/ntskeys.h"
#include "daemon/sys/log.h"

#define NKS_MAGIC    "horod-ntskeys 1" /* first line of the file: format and version */
#define NKS_FILE_MAX 4096	       /* bytes: four key lines and comments take ~600 */
#define NKS_PREV_MAX 2		       /* previous keys kept: cookies live two rotations */

static const char *const role_names[] = {"previous", "current", "next"};

size_t nks_format(const struct nks_raws *raws, char *buf, size_t len)
{
	size_t pos = 0;
	int i, j, n;

	n = snprintf(buf, len,
		     "# horod's NTS server keys: they seal the cookies of NTS clients. Keep it\n"
		     "# secret (0600). Servers sharing this file accept each other's cookies.\n"
		     "%s\n",
		     NKS_MAGIC);
	pos = n > 0 ? (size_t)n : 0;
	for (i = 0; i < raws->n; i++) {
		const struct nks_raw *k = &raws->k[i];
		char hex[2 * NTS_KEY_LEN + 1];

		for (j = 0; j < NTS_KEY_LEN; j++)
			snprintf(hex + 2 * j, 3, "%02x", k->key[j]);
		n = snprintf(pos < len ? buf + pos : NULL, pos < len ? len - pos : 0,
			     "key %s %08" PRIx32 " %" PRId64 " %s\n", role_names[k->role], k->id,
			     k->activated, hex);
		pos += n > 0 ? (size_t)n : 0;
		memset(hex, 0, sizeof(hex));
	}
	return pos;
}

/* The 2 * NTS_KEY_LEN hex digits at HEX into KEY: 0, or -1. */
static int unhex_key(const char *hex, uint8_t *key)
{
	int i;

	if (strlen(hex) != 2 * NTS_KEY_LEN)
		return -1;
	for (i = 0; i < NTS_KEY_LEN; i++) {
		unsigned int b;
		char pair[3] = {hex[2 * i], hex[2 * i + 1], 0};

		if (!strchr("0123456789abcdefABCDEF", pair[0]) ||
		    !strchr("0123456789abcdefABCDEF", pair[1]) || sscanf(pair, "%2x", &b) != 1)
			return -1;
		key[i] = (uint8_t)b;
	}
	return 0;
}

int nks_parse(const char *text, struct nks_raws *raws, char *err, size_t errlen)
{
	int line = 0, magic = 0, cur = 0, next = 0, prev = 0, i;
	struct nks_raws tmp = {.n = 0};
	const char *s = text;

	while (*s) {
		char buf[256], role[16], id[16], act[24], hex[80], extra[2];
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		struct nks_raw k;
		char *end;
		int r;

		line++;
		if (len >= sizeof(buf)) {
			snprintf(err, errlen, "line %d: longer than %zu bytes", line,
				 sizeof(buf) - 1);
			return -1;
		}
		memcpy(buf, s, len);
		buf[len] = '\0';
		s += len + (nl ? 1 : 0);
		if (buf[0] == '#' || buf[strspn(buf, " \t")] == '\0')
			continue;
		if (!magic) {
			if (strcmp(buf, NKS_MAGIC) != 0) {
				snprintf(err, errlen, "line %d: not '%s'", line, NKS_MAGIC);
				return -1;
			}
			magic = 1;
			continue;
		}
		r = sscanf(buf, "key %15s %15s %23s %79s %1s", role, id, act, hex, extra);
		if (r != 4) {
			snprintf(err, errlen,
				 "line %d: allowed: key previous|current|next ID ACTIVATED HEXKEY",
				 line);
			return -1;
		}
		memset(&k, 0, sizeof(k));
		for (i = 0; i < 3 && strcmp(role, role_names[i]) != 0; i++)
			;
		if (i == 3) {
			snprintf(err, errlen, "line %d: role '%s', allowed: previous current next",
				 line, role);
			return -1;
		}
		k.role = (enum nks_role)i;
		errno = 0;
		k.id = (uint32_t)strtoul(id, &end, 16);
		if (*end || errno || strlen(id) != 8) {
			snprintf(err, errlen, "line %d: key id '%s', allowed: 8 hex digits", line,
				 id);
			return -1;
		}
		k.activated = strtoll(act, &end, 10);
		if (*end || errno || k.activated < 0) {
			snprintf(err, errlen,
				 "line %d: activation time '%s', allowed: seconds >= 0", line, act);
			return -1;
		}
		if (unhex_key(hex, k.key) < 0) {
			snprintf(err, errlen, "line %d: key, allowed: %d hex digits", line,
				 2 * NTS_KEY_LEN);
			return -1;
		}
		for (i = 0; i < tmp.n; i++)
			if (tmp.k[i].id == k.id) {
				snprintf(err, errlen, "line %d: key id %08" PRIx32 " twice", line,
					 k.id);
				return -1;
			}
		cur += k.role == NKS_CURRENT;
		next += k.role == NKS_NEXT;
		prev += k.role == NKS_PREVIOUS;
		if (cur > 1 || next > 1 || prev > NKS_PREV_MAX) {
			snprintf(err, errlen,
				 "line %d: too many keys, allowed: one current, one next, %d "
				 "previous",
				 line, NKS_PREV_MAX);
			return -1;
		}
		tmp.k[tmp.n++] = k;
		memset(&k, 0, sizeof(k));
	}
	if (!magic || cur != 1) {
		snprintf(err, errlen, "%s", !magic ? "empty file" : "no current key");
		return -1;
	}
	/* File order whatever the input's: previous (oldest first), current, next. */
	raws->n = 0;
	for (i = 0; i < tmp.n; i++)
		if (tmp.k[i].role == NKS_PREVIOUS) {
			int j = raws->n++;

			while (j > 0 && raws->k[j - 1].activated > tmp.k[i].activated) {
				raws->k[j] = raws->k[j - 1];
				j--;
			}
			raws->k[j] = tmp.k[i];
		}
	for (i = 0; i < tmp.n; i++)
		if (tmp.k[i].role == NKS_CURRENT)
			raws->k[raws->n++] = tmp.k[i];
	for (i = 0; i < tmp.n; i++)
		if (tmp.k[i].role == NKS_NEXT)
			raws->k[raws->n++] = tmp.k[i];
	memset(&tmp, 0, sizeof(tmp));
	return 0;
}

int nks_rotate(struct nks_raws *raws, int64_t now, long rotate, uint32_t newid,
	       const uint8_t *newkey)
{
	int cur, i, prev = 0;
	struct nks_raws out = {.n = 0};

	for (cur = 0; cur < raws->n && raws->k[cur].role != NKS_CURRENT; cur++)
		;
	if (cur == raws->n || rotate <= 0)
		return 0;
	/* A clock that went back: the key became current no later than now. */
	if (raws->k[cur].activated > now)
		raws->k[cur].activated = now;
	if (now - raws->k[cur].activated < rotate && cur + 1 < raws->n)
		return 0;
	for (i = 0; i <= cur; i++)
		prev += raws->k[i].role == NKS_PREVIOUS || i == cur;
	/* The newest NKS_PREV_MAX of the previous keys and the current one stay, as previous. */
	for (i = 0; i <= cur; i++) {
		if (prev-- > NKS_PREV_MAX)
			continue;
		out.k[out.n] = raws->k[i];
		out.k[out.n++].role = NKS_PREVIOUS;
	}
	if (cur + 1 < raws->n) {
		out.k[out.n] = raws->k[cur + 1];
		out.k[out.n].role = NKS_CURRENT;
		out.k[out.n++].activated = now;
	} else {
		/* No next key (a file made by hand): the new key becomes current at once. */
		out.k[out.n].id = newid;
		out.k[out.n].role = NKS_CURRENT;
		out.k[out.n].activated = now;
		memcpy(out.k[out.n++].key, newkey, NTS_KEY_LEN);
		*raws = out;
		memset(&out, 0, sizeof(out));
		return 1;
	}
	out.k[out.n].id = newid;
	out.k[out.n].role = NKS_NEXT;
	out.k[out.n].activated = 0;
	memcpy(out.k[out.n++].key, newkey, NTS_KEY_LEN);
	*raws = out;
	memset(&out, 0, sizeof(out));
	return 1;
}

/* A fresh key and an id no key in RAWS has; 0, or -1 when the kernel gives no randomness. */
static int draw_key(const struct nks_raws *raws, uint32_t *id, uint8_t *key)
{
	int i;

	if (getrandom(key, NTS_KEY_LEN, 0) != NTS_KEY_LEN)
		return -1;
	do {
		if (getrandom(id, sizeof(*id), 0) != sizeof(*id))
			return -1;
		for (i = 0; i < raws->n && raws->k[i].id != *id; i++)
			;
	} while (i < raws->n);
	return 0;
}

/* Wipe and free a published set (no reader holds it any more). */
static void free_set(const struct nts_keyset *set)
{
	struct nts_keyset *w = (struct nts_keyset *)(uintptr_t)set;

	if (!w)
		return;
	memset(w, 0, sizeof(*w));
	free(w);
}

/* Publish RAWS: a new immutable set, the old one retired. 0, or -1 (out of memory). */
static int publish(struct nks *s)
{
	struct nts_keyset *set = calloc(1, sizeof(*set));
	const struct nts_keyset *old;
	uint64_t g;
	int i;

	if (!set)
		return -1;
	for (i = 0; i < s->raws.n; i++) {
		set->key[i].id = s->raws.k[i].id;
		cry_siv_init(&set->key[i].siv, s->raws.k[i].key);
		if (s->raws.k[i].role == NKS_CURRENT)
			set->current = i;
	}
	set->n = s->raws.n;
	/* Release: a reader that takes the pointer sees the set's contents. */
	old = atomic_exchange_explicit(&s->cur, set, memory_order_acq_rel);
	g = atomic_load_explicit(&s->gen, memory_order_relaxed) + 1;
	/* Release: a reader that sees generation g finds the new pointer (stored above). */
	atomic_store_explicit(&s->gen, g, memory_order_release);
	if (old) {
		if (s->n_retired == NKS_RETIRED_MAX) {
			/* Cannot happen with tick's reclamation; never free what may be read. */
			log_msg(LOG_WARNING, "nts: %d old key sets await readers; one is leaked",
				NKS_RETIRED_MAX);
			return 0;
		}
		s->retired[s->n_retired].set = old;
		s->retired[s->n_retired++].gen = g;
	}
	return 0;
}

/*
 * Free the retired sets no reader can hold. The seq_cst fence pairs with
 * the one in nks_enter (a store-load "Dekker" pair): either the reader's
 * pointer load comes after the writer's fence, and then it saw the new
 * pointer, or the writer's slot loads below come after the reader's fence,
 * and then they see the reader's announcement (or a later one).
 */
static void reclaim(struct nks *s)
{
	int i, j, k = 0;

	atomic_thread_fence(memory_order_seq_cst);
	for (i = 0; i < s->n_retired; i++) {
		int busy = 0;

		for (j = 0; j < s->n_slots && !busy; j++) {
			uint64_t v = atomic_load_explicit(&s->slot[j].gen, memory_order_acquire);

			busy = v != 0 && v < s->retired[i].gen;
		}
		if (busy) {
			s->retired[k++] = s->retired[i];
			continue;
		}
		free_set(s->retired[i].set);
	}
	s->n_retired = k;
}

/* Save the keys in the file; 0, or -1 (logged). */
static int save(struct nks *s)
{
	char buf[NKS_FILE_MAX], why[256];
	size_t n = nks_format(&s->raws, buf, sizeof(buf));
	int r;

	if (!s->path[0])
		return 0;
	r = n < sizeof(buf) ? clk_file_replace(s->path, buf, n, why, sizeof(why)) : -1;
	memset(buf, 0, sizeof(buf));
	if (r < 0) {
		log_msg(LOG_WARNING, "nts: cannot save the server keys to %s: %s", s->path,
			n < sizeof(buf) ? why : "too long");
		return -1;
	}
	return 0;
}

/* Read the file into RAWS (and ST): 1 read, 0 absent, -1 (ERR). */
static int load(const char *path, struct nks_raws *raws, struct stat *st, char *err, size_t errlen)
{
	char buf[NKS_FILE_MAX + 1], why[200];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st->st_mode & S_IROTH) {
		snprintf(err, errlen,
			 "%s: readable by everyone (mode %03o): the keys would let anyone read "
			 "NTS cookies, allowed: chmod o-r (horod writes it 0600)",
			 path, (unsigned int)(st->st_mode & 0777));
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n > NKS_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", path,
			 n < 0 ? strerror(errno) : "larger than 4096 bytes");
		return -1;
	}
	buf[n] = '\0';
	r = nks_parse(buf, raws, why, sizeof(why));
	memset(buf, 0, sizeof(buf));
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	return 1;
}

int nks_init(struct nks *s, const struct cfg_nts *c, int64_t now, char *err, size_t errlen)
{
	uint8_t key[NTS_KEY_LEN];
	uint32_t id;
	int r = 0, dirty = 0;

	memset(s, 0, sizeof(*s));
	atomic_init(&s->cur, NULL);
	atomic_init(&s->gen, 0);
	s->rotate = c->rotate;
	if (c->dumpdir[0]) {
		snprintf(s->path, sizeof(s->path), "%s/%s", c->dumpdir, NKS_FILE);
		clk_driftfile_clean(s->path);
		r = load(s->path, &s->raws, &s->seen, err, errlen);
		if (r < 0)
			return -1;
	}
	if (r == 0 && s->rotate == 0) {
		snprintf(err, errlen,
			 "%s: no key file, and ntsrotate 0 says it is made outside horod: copy it "
			 "from the server that rotates the keys",
			 s->path);
		return -1;
	}
	if (r == 0) {
		/* No keys yet: a current one and the next. */
		if (draw_key(&s->raws, &id, key) < 0)
			goto no_random;
		s->raws.k[0] = (struct nks_raw){.id = id, .role = NKS_CURRENT, .activated = now};
		memcpy(s->raws.k[0].key, key, NTS_KEY_LEN);
		s->raws.n = 1;
		dirty = 1;
		log_msg(LOG_NOTICE, "nts: new server keys%s%s", s->path[0] ? ", saved in " : "",
			s->path[0] ? s->path : " (no ntsdumpdir: cookies die with this process)");
	}
	if (s->rotate > 0) {
		int has_next = s->raws.k[s->raws.n - 1].role == NKS_NEXT;

		if (draw_key(&s->raws, &id, key) < 0)
			goto no_random;
		if (!has_next) {
			s->raws.k[s->raws.n] = (struct nks_raw){.id = id, .role = NKS_NEXT};
			memcpy(s->raws.k[s->raws.n++].key, key, NTS_KEY_LEN);
			dirty = 1;
		} else if (nks_rotate(&s->raws, now, s->rotate, id, key)) {
			dirty = 1;
		}
	}
	memset(key, 0, sizeof(key));
	if (dirty && s->rotate > 0 && save(s) < 0 && s->path[0]) {
		snprintf(err, errlen, "%s: cannot be written (see the log line above)", s->path);
		return -1;
	}
	s->next_look = now + NKS_RELOAD_EVERY;
	if (publish(s) < 0) {
		snprintf(err, errlen, "out of memory for the NTS keys");
		return -1;
	}
	return 0;

no_random:
	snprintf(err, errlen, "getrandom: %s", strerror(errno));
	return -1;
}

int nks_slot_get(struct nks *s)
{
	if (s->n_slots == NKS_SLOTS)
		return -1;
	atomic_init(&s->slot[s->n_slots].gen, 0);
	return s->n_slots++;
}

const struct nts_keyset *nks_enter(struct nks *s, int slot)
{
	uint64_t g = atomic_load_explicit(&s->gen, memory_order_acquire);

	atomic_store_explicit(&s->slot[slot].gen, g, memory_order_relaxed);
	/* seq_cst fence: the announcement above is ordered before the pointer
	 * load below, against the writer's fence in reclaim() (see there). */
	atomic_thread_fence(memory_order_seq_cst);
	return atomic_load_explicit(&s->cur, memory_order_acquire);
}

void nks_leave(struct nks *s, int slot)
{
	/* Release: every read of the set happens before the slot says "done". */
	atomic_store_explicit(&s->slot[slot].gen, 0, memory_order_release);
}

int nks_tick(struct nks *s, int64_t now)
{
	uint8_t key[NTS_KEY_LEN];
	int changed = 0;
	uint32_t id;

	reclaim(s);
	if (s->rotate > 0) {
		if (draw_key(&s->raws, &id, key) < 0)
			return 0;
		if (nks_rotate(&s->raws, now, s->rotate, id, key)) {
			changed = 1;
			save(s);
			log_msg(LOG_NOTICE,
				"nts: server keys rotated: current key %08" PRIx32
				", next %08" PRIx32 "%s",
				s->raws.k[s->raws.n - 2].id, id, s->path[0] ? ", saved" : "");
		}
		memset(key, 0, sizeof(key));
	} else if (now >= s->next_look) {
		struct nks_raws raws;
		struct stat st;
		char err[300];
		int r;

		s->next_look = now + NKS_RELOAD_EVERY;
		if (stat(s->path, &st) == 0 && st.st_mtim.tv_sec == s->seen.st_mtim.tv_sec &&
		    st.st_mtim.tv_nsec == s->seen.st_mtim.tv_nsec && st.st_ino == s->seen.st_ino &&
		    st.st_size == s->seen.st_size)
			return 0;
		r = load(s->path, &raws, &st, err, sizeof(err));
		if (r <= 0) {
			log_msg(LOG_WARNING, "nts: keeping the keys in use: %s",
				r == 0 ? "the key file is gone" : err);
			if (r == 0)
				s->seen = (struct stat){0};
			return 0;
		}
		s->seen = st;
		s->raws = raws;
		memset(&raws, 0, sizeof(raws));
		changed = 1;
		log_msg(LOG_NOTICE, "nts: server keys read again from %s", s->path);
	}
	if (changed && publish(s) < 0)
		log_msg(LOG_ERR, "nts: out of memory: the new keys are not in use");
	return changed;
}

void nks_fini(struct nks *s)
{
	const struct nts_keyset *cur = atomic_load_explicit(&s->cur, memory_order_relaxed);
	int i;

	for (i = 0; i < s->n_retired; i++)
		free_set(s->retired[i].set);
	s->n_retired = 0;
	free_set(cur);
	atomic_store_explicit(&s->cur, NULL, memory_order_relaxed);
	memset(&s->raws, 0, sizeof(s->raws));
}
