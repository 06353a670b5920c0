import Glibc
import ImagedropSystem

/// For the crash test of the write-behind only: with IMAGEDROP_TEST_KILL_BEFORE_DONE set to a file's base name, the
/// daemon sends itself SIGKILL as that file's `done` goes to the writer — uploaded and answered, its row still
/// `uploading`, as a crash anywhere before the writer's commit leaves it (killed just before the hand-over, so no
/// batch that happens to be written at that moment can make the test see the row done). Read once; unset, it costs
/// one comparison of an optional per job.
package enum KillBeforeDoneHook {
    private static let name: [UInt8]? = getenv("IMAGEDROP_TEST_KILL_BEFORE_DONE").map {
        Array(String(cString: $0).utf8)
    }

    package static func fire(for path: RawPath) {
        guard let name, path.baseName == name else { return }
        kill(getpid(), SIGKILL)
    }
}
