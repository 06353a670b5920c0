#ifndef IMAGEDROP_CCRASHJOURNAL_H
#define IMAGEDROP_CCRASHJOURNAL_H

// A fatal signal (a Swift trap is SIGILL or SIGTRAP; SIGSEGV, SIGBUS, SIGFPE; SIGABRT, which systemd's watchdog
// sends too) is noted in the daemon's lock file before the process dies, so the next start can tell a crash from
// a kill -9 or a power cut. Written in C because a signal handler may call only async-signal-safe functions, and
// Swift code may allocate.

/// Notes crashes at `offset` in `fd` from now on. Call once, from the main thread, before workers start.
void imagedrop_crash_journal_install(int fd, long offset);

/// An alternate signal stack for the calling thread, so a stack overflow still reaches the handler. Threads
/// that run untrusted parsers call it once when they start; the stack lives as long as the thread.
void imagedrop_crash_journal_thread_init(void);

#endif
