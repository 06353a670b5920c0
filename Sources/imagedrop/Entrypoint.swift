import ArgumentParser
import Glibc
import ImagedropDaemon
import ImagedropSystem

/// Thin entry point: signals are blocked before anything can start a thread (the daemon takes them on its main
/// loop), then unblocked again for every other command, which should simply die on Ctrl-C or SIGTERM.
@main
struct Entrypoint {
    static func main() {
        Signals.blockForProcess()
        // glibc gives each thread that allocates its own malloc arena (up to 8 per core); a daemon with a
        // dozen threads then holds several MiB of mostly empty arenas. Four: with two, eight workers on small
        // files waited on the arena locks (a thousand futex sleeps per 2,000 uploads, 5 % more CPU); four cost
        // 0.2–0.4 MiB of RSS over two (docs/benchmarks.md).
        _ = glibcMallopt(-8 /* M_ARENA_MAX */, 4)
        // Keep up to 4 MiB free at the top of each arena instead of handing it back at once: with glibc's default
        // (128 KiB, moving with the largest block freed) every upload's buffers were returned with brk/madvise and
        // faulted in again for the next one (page faults and TLB shootdowns were a tenth of the daemon's CPU on
        // small files). Setting it fixes the mmap threshold too (glibc's own moves up with each large block
        // freed): 1 MiB keeps the upload buffers on the heap as before; peak RSS stays the same, only reuse changes.
        _ = glibcMallopt(-1 /* M_TRIM_THRESHOLD */, 4 << 20)
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 1 << 20)
        // Parse first (no threads yet, signals still blocked), then give every command but `run` its signals back.
        // Bare `imagedrop` is a usage error (64), not a silent success: scripts must not mistake it for a run.
        let arguments = ProcessArguments.current
        if arguments.count <= 1 {
            Console.write(ImagedropCommand.helpMessage() + "\n", to: 2)
            Glibc.exit(Daemon.Exit.usage.rawValue)
        }
        do {
            var command = try ImagedropCommand.parseAsRoot(Array(arguments.dropFirst()))
            if !(command is RunCommand) { Signals.restoreDefaultForProcess() }
            try command.run()
        } catch {
            ImagedropCommand.exit(withError: error)
        }
    }
}

/// glibc's mallopt(3): <malloc.h> is not part of Swift's Glibc module.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32

struct ImagedropCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagedrop",
        abstract: "Watch drop folders and upload every new image to Cloudflare Images.",
        discussion: """
            Every subcommand takes -c/--config FILE (default: $IMAGEDROP_CONFIG, else /etc/imagedrop/imagedrop.toml) \
            and -q / -v / --log-level LEVEL.

            Example: imagedrop run --once -c ./imagedrop.toml

            Exit codes: 0 ok; 1 reconcile found differences it did not fix; 23 run --once finished but jobs failed; 64 usage; 65 a named file, folder or job \
            does not exist or cannot be read; 69 API unreachable or token refused; 74 the database stayed busy, \
            or was deleted or replaced under the daemon, or [http] listen could not be bound (systemd restarts it); 75 another daemon runs on this \
            database or watches the same folder; 77 the database may not be read or written by this user; 78 config \
            error; 130/143 run --once stopped by SIGINT/SIGTERM. status --check: 0 running, 1 not running after an \
            unclean stop, 2 paused, 3 not running, 4 running but not responding.
            """,
        version: VersionText.full,
        subcommands: [
            RunCommand.self, StatusCommand.self, EnqueueCommand.self, RetryCommand.self, ShowCommand.self,
            ExportCommand.self, CheckCommand.self, PruneCommand.self, ListCommand.self,
            WebhookCommand.self, PauseCommand.self, ResumeCommand.self, DismissCommand.self,
            ReconcileCommand.self, FleetCommand.self,
        ]
    )
}
