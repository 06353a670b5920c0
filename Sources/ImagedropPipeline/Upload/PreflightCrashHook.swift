import Glibc
import ImagedropSystem

/// For the quarantine's end-to-end test only: with IMAGEDROP_TEST_CRASH_IN_PREFLIGHT set to a file's base name,
/// the daemon traps (as a crashing parser would) when it starts the pre-flight of that file. Read once; unset, it
/// costs one comparison of an optional per job.
package enum PreflightCrashHook {
    private static let name: [UInt8]? = getenv("IMAGEDROP_TEST_CRASH_IN_PREFLIGHT").map {
        Array(String(cString: $0).utf8)
    }

    package static func fire(for path: RawPath) {
        guard let name, path.baseName == name else { return }
        fatalError("IMAGEDROP_TEST_CRASH_IN_PREFLIGHT: trapping in the pre-flight of \(path.display)")
    }
}
