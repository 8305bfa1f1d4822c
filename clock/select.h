/*
 * Source selection, the RFC 5905 way in our own words: each usable source
 * is an interval (its offset plus or minus its root distance) that should
 * contain the true offset. The intersection step finds the smallest
 * number of sources that must be wrong for the rest to share a point, and
 * marks the sources outside that shared interval as falsetickers ('x');
 * a majority must agree or nobody is chosen. When some sources are
 * trusted (chrony's trust), the majority is counted among them alone, and
 * an untrusted source survives only wholly inside their shared interval.
 * Clustering then drops the outliers ('-') whose offsets sit farthest
 * from the others while that reduces the spread more than the sources'
 * own jitter, keeping at least a few; survivors beyond the count to
 * combine are backups ('#'). The survivors ('+') are combined weighted by
 * 1/root distance; when preferred sources survive, the core combines only
 * them (clock/core.c).
 */
#ifndef HOROD_CLOCK_SELECT_H
#define HOROD_CLOCK_SELECT_H

#define CLK_MIN_CLUSTER 3  /* survivors clustering never goes below (RFC 5905 NMIN) */
#define CLK_MAX_CLUSTER 10 /* truechimers clustered and combined at most (ntpd's maxclock) */
#define CLK_SELECT_MAX	64 /* candidates one selection takes: every source a core follows */

struct clk_cand {
	int id;		 /* the caller's source id */
	double offset;	 /* s: centre of the interval (the clock filter's offset) */
	double dist;	 /* s: half width, the root distance (> 0) */
	double jitter;	 /* s: the source's own jitter */
	double estimate; /* s: the offset to combine (the source's estimate) */
	int stratum;
	int trust;  /* a trusted source (see above) */
	char tally; /* out: 'x' falseticker, '-' outlier, '#' backup, '+' survivor */
};

/*
 * Intersection: mark falsetickers 'x' and the rest '+'; returns how many
 * are '+', with the agreed interval in *LO..*HI, or 0 (all 'x') when no
 * majority of the N candidates (of the trusted ones, when any is) shares
 * a point.
 */
int clk_select_intersect(struct clk_cand *c, int n, double *lo, double *hi);

/*
 * Clustering of the '+' candidates: sorts C by merit (stratum, then root
 * distance), marks '#' beyond CLK_MAX_CLUSTER, then '-' on outliers while
 * more than MIN_KEEP remain and dropping one lowers the spread. Returns the
 * survivors, which come first in C afterwards.
 */
int clk_select_cluster(struct clk_cand *c, int n, int min_keep, double maxdist);

/* RMS of the '+' candidates' offsets about C[K]'s: the selection jitter seen from K. */
double clk_select_jitter(const struct clk_cand *c, int n, int k);

/* The 1/dist weighted mean of the first N candidates' estimates. */
double clk_select_combine(const struct clk_cand *c, int n);

#endif
