import Glibc
import ProcessHarness

/// Issue 25's ceiling: one `curl --parallel --parallel-max 8` process reading a `-K` config that lists every
/// file, its connections kept alive between transfers — libcurl with no hashing and no bookkeeping.
/// (`xargs -P 8 curl` starts a process per file, which is a low bar; it stays beside this one in the notes.)
enum CurlParallelBaseline {
    /// One `url`/`form` block per `.png` in `directory`, separated by `next` (form and header are
    /// per-transfer options in curl's config, so each block repeats them).
    static func config(directory: String, url: String) throws -> String {
        try PNGListing.names(in: directory).map { name in
            """
            url = "\(url)"
            output = "/dev/null"
            fail
            header = "Authorization: Bearer x"
            form = "file=@\(directory)/\(name)"

            """
        }.joined(separator: "next\n")
    }

    static func run(
        directory: String, url: String, scratch: String, parallel: Int = 8
    ) throws -> (seconds: Double, usage: ResourceUsage?) {
        let path = scratch + "/curl-parallel.conf"
        try Files.write(text: try config(directory: directory, url: url), to: path)
        defer { unlink(path) }
        let result = try ChildProcess.run(
            "/usr/bin/curl", ["--parallel", "--parallel-max", "\(parallel)", "--silent", "--show-error", "-K", path],
            environment: ["PATH": "/usr/bin:/bin"], scratch: scratch)
        guard result.status == 0 else {
            throw SpawnError(description: "curl --parallel to the sink failed (\(result.status)): \(result.errors)")
        }
        return (result.seconds, result.usage)
    }
}
