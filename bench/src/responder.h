/*
 * The floor responder (`horobench respond`): the least work a UDP server
 * can do per NTP request, to measure the kernel's share of a reply on this
 * machine. recvmmsg a batch, turn each request into a reply in place (one
 * clock read per batch, no validation beyond the length), sendmmsg the
 * batch. With --echo it sends each datagram back unchanged: a broken
 * server, for checking that horobench rejects what it should.
 */
#ifndef HOROD_BENCH_RESPONDER_H
#define HOROD_BENCH_RESPONDER_H

/* Run the responder with the command line after `respond`; returns the exit status. */
int rs_main(int argc, char **argv);

#endif
