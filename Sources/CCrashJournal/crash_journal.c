#include "CCrashJournal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int journal_fd = -1;
static long journal_offset = 0;
// What was installed before (the Swift runtime's backtracer, when enabled): the note is written, then the
// signal goes on to it, so a crash still prints its backtrace to the journal.
static struct sigaction previous[NSIG];

static void note_crash(int signal_number, siginfo_t *info, void *context) {
    if (journal_fd >= 0) {
        // "crash signal NN\n": digits by hand, no stdio in a signal handler.
        char line[32] = "crash signal ";
        size_t length = strlen(line);
        int value = signal_number;
        char digits[8];
        int count = 0;
        do { digits[count++] = (char)('0' + value % 10); value /= 10; } while (value > 0 && count < 8);
        while (count > 0) line[length++] = digits[--count];
        line[length++] = '\n';
        ssize_t ignored = pwrite(journal_fd, line, length, journal_offset);
        (void)ignored;
        fdatasync(journal_fd);
    }
    // Whatever handled the signal before us takes it from here. The Swift runtime's backtracer, when enabled, is
    // called with the signal's own siginfo and context, so its backtrace shows where the fault happened (a
    // raise() here showed only this handler's pthread_kill). Then the default action ends the process whatever
    // that handler did: returning to re-execute the instruction could let a fault that no longer happens (a
    // truncated file grown back) run on with this note written and no handler left.
    struct sigaction *before = &previous[signal_number];
    if ((before->sa_flags & SA_SIGINFO) && before->sa_sigaction != NULL) {
        before->sa_sigaction(signal_number, info, context);
    } else if (before->sa_handler != SIG_DFL && before->sa_handler != SIG_IGN) {
        before->sa_handler(signal_number);
    }
    struct sigaction fallback;
    memset(&fallback, 0, sizeof fallback);
    fallback.sa_handler = SIG_DFL;
    sigaction(signal_number, &fallback, NULL);
    raise(signal_number);
}

void imagedrop_crash_journal_install(int fd, long offset) {
    // Twice would make the handler its own "previous" one.
    if (journal_fd >= 0) return;
    journal_fd = fd;
    journal_offset = offset;
    static const int fatal[] = {SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT};
    imagedrop_crash_journal_thread_init();
    for (size_t index = 0; index < sizeof fatal / sizeof fatal[0]; index++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = note_crash;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigaction(fatal[index], &action, &previous[fatal[index]]);
    }
}

void imagedrop_crash_journal_thread_init(void) {
    stack_t stack;
    memset(&stack, 0, sizeof stack);
    stack.ss_size = 64 * 1024;
    stack.ss_sp = malloc(stack.ss_size);
    if (stack.ss_sp == NULL) return;
    sigaltstack(&stack, NULL);
}
