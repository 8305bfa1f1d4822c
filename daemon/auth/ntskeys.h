/*
 * The NTS server keys: the keys that seal the cookies horod hands out,
 * kept, rotated, saved and published to the threads that use them.
 *
 * Four keys at most: the current one (seals new cookies), the next one
 * (made in advance, already accepted), and the two previous ones (still
 * accepted, so cookies handed out before a rotation keep working for two
 * rotation intervals). Every `ntsrotate` seconds the next key becomes
 * current, the oldest is dropped and a new next one is drawn from the
 * kernel. With `ntsdumpdir`, the keys are saved in DIR/ntskeys (0600,
 * written crash-safely like the driftfile) at every change and read at
 * start, so a restart keeps the clients' cookies valid, and replicas that
 * share the file accept each other's cookies. With `ntsrotate 0` the file
 * is managed outside horod (copied from a server that rotates): horod
 * never writes it and reads it again whenever it changes; because the
 * file holds the next key, a replica that reads a copy up to one
 * rotation late still accepts the cookies of the server it came from.
 *
 * Publication: the key set is an immutable value; the writer (one
 * thread: nks_tick's caller) builds a new one and swaps a pointer. A
 * reader (a worker or an NTS-KE thread, each with its own slot) announces
 * the generation it saw before taking the pointer and clears it after;
 * an old set is freed only once no slot could still hold it (epoch-based
 * reclamation; the fences are explained in ntskeys.c). Readers never
 * lock, wait or allocate.
 */
#ifndef HOROD_DAEMON_NTSKEYS_H
#define HOROD_DAEMON_NTSKEYS_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/stat.h>

#include "daemon/config/config.h"
#include "proto/nts.h"

#define NKS_SLOTS	 (CFG_MAX_WORKERS + 16) /* reader slots: every worker + KE threads */
#define NKS_RETIRED_MAX	 16	   /* old key sets awaiting reclamation (one per change) */
#define NKS_FILE	 "ntskeys" /* the file's name in ntsdumpdir */
#define NKS_RELOAD_EVERY 10	   /* s: how often `ntsrotate 0` looks at the file */

/* Where a key stands. */
enum nks_role { NKS_PREVIOUS, NKS_CURRENT, NKS_NEXT };

/* One key as the file holds it. */
struct nks_raw {
	uint32_t id;
	enum nks_role role;
	int64_t activated; /* s since the Unix epoch it became current; 0 for the next key */
	uint8_t key[NTS_KEY_LEN];
};

/* The keys, in file order: previous (oldest first), current, next. */
struct nks_raws {
	struct nks_raw k[NTS_KEYS_MAX];
	int n;
};

/* One reader's announcement, on its own cache line. */
struct nks_slot {
	_Atomic uint64_t gen; /* 0: not reading; else the generation seen on entry */
} __attribute__((aligned(64)));

struct nks {
	_Atomic(const struct nts_keyset *) cur; /* what readers use */
	_Atomic uint64_t gen;			/* publications so far, from 1 */
	struct nks_slot slot[NKS_SLOTS];
	int n_slots; /* handed out by nks_slot_get */
	/* The writer's own state (one thread). */
	struct {
		const struct nts_keyset *set;
		uint64_t gen; /* freed once every slot is 0 or at least this */
	} retired[NKS_RETIRED_MAX];
	int n_retired;
	struct nks_raws raws;
	char path[CFG_PATH_MAX + 16]; /* DIR/ntskeys, "" without ntsdumpdir */
	long rotate;		      /* s; 0: the file is managed outside */
	struct stat seen;	      /* the file as last read (ntsrotate 0) */
	int64_t next_look;	      /* s: when ntsrotate 0 looks at the file again */
};

/*
 * Read the keys from `ntsdumpdir` (or make them, and save them unless
 * ntsrotate is 0) and publish them, at NOW (s since the Unix epoch). 0,
 * or -1 with the reason in ERR: an unreadable, world-readable or
 * malformed file, no file with ntsrotate 0, a file that cannot be written.
 */
int nks_init(struct nks *s, const struct cfg_nts *c, int64_t now, char *err, size_t errlen);

/* A reader slot for one thread (called before the threads start); -1 when none is left. */
int nks_slot_get(struct nks *s);

/* Enter reading in SLOT: the key set to use until nks_leave. */
const struct nts_keyset *nks_enter(struct nks *s, int slot);

/* Leave reading in SLOT: the set from nks_enter may be freed from now on. */
void nks_leave(struct nks *s, int slot);

/*
 * The writer's periodic work at NOW (s): rotate when due (and save), or
 * with ntsrotate 0 read the file again when it changed; free the old sets
 * no reader can hold. Returns 1 when the keys changed.
 */
int nks_tick(struct nks *s, int64_t now);

/* Free everything (no reader may run). */
void nks_fini(struct nks *s);

/* Write RAWS in the file format into BUF (LEN bytes); returns the length wanted. */
size_t nks_format(const struct nks_raws *raws, char *buf, size_t len);

/* Read the file format from TEXT into RAWS: 0, or -1 with `line N: what` in ERR. */
int nks_parse(const char *text, struct nks_raws *raws, char *err, size_t errlen);

/*
 * Rotate RAWS at NOW (s) when the current key is ROTATE seconds old (or
 * older; a clock that went back counts from now): the next key becomes
 * current, NEWKEY (NTS_KEY_LEN bytes, id NEWID) becomes next, at most two
 * previous keys stay. Returns 1 when it rotated.
 */
int nks_rotate(struct nks_raws *raws, int64_t now, long rotate, uint32_t newid,
	       const uint8_t *newkey);

#endif
