import Foundation
import Glibc
import ImagedropTestSupport
import ProcessHarness

/// nginx-light as an upload sink (Benchmarks/nginx/sink.conf): reads and discards every body and answers a
/// fixed success envelope, on a free loopback port; stopped when the scenario ends.
final class NginxSink {
    let process: ChildProcess
    let port: Int
    var apiBaseURL: String { "http://127.0.0.1:\(port)/client/v4" }
    var uploadURL: String { apiBaseURL + "/accounts/023e105f4ecef8ad9ca31a8372d0c353/images/v1" }

    static var template: String {
        // The bench runs from the package root (scripts/bench.sh); IMAGEDROP_NGINX_CONF overrides.
        ProcessInfo.processInfo.environment["IMAGEDROP_NGINX_CONF"] ?? FileManager.default.currentDirectoryPath
            + "/Benchmarks/nginx/sink.conf"
    }

    init(scratch: String) throws {
        let directory = scratch + "/nginx"
        Files.makeDirectory(directory)
        port = try LoopbackPort.free()
        guard let template = Files.readText(Self.template) else {
            throw SpawnError(description: "cannot read \(Self.template)")
        }
        let conf = template.replacingOccurrences(of: "@PORT@", with: "\(port)").replacingOccurrences(
            of: "@DIR@", with: directory)
        try Files.write(text: conf, to: directory + "/sink.conf")
        process = try ChildProcess(
            "/usr/sbin/nginx", ["-p", directory, "-c", directory + "/sink.conf", "-e", directory + "/error.log"],
            environment: ["PATH": "/usr/sbin:/usr/bin:/bin"], stdoutPath: directory + "/out.log",
            stderrPath: directory + "/out.log")
        let deadline = Clock.monotonicSeconds() + 10
        while Clock.monotonicSeconds() < deadline {
            if LoopbackPort.accepts(port) { return }
            usleep(20_000)
        }
        process.stop(graceSeconds: 2)
        throw SpawnError(
            description: "nginx did not listen on \(port): \(Files.readText(directory + "/error.log") ?? "")")
    }

    func stop() { process.stop(graceSeconds: 5) }

    /// CPU seconds nginx has spent so far, its master and worker together: read before and after a run, the sink's
    /// share of the machine's cores. From `/proc/PID/schedstat` (nanoseconds on the CPU; nginx's processes are one
    /// thread each), not `stat`'s utime and stime, whose 10 ms ticks are a fifth of a small run's figure. nil when
    /// no worker is found or a process cannot be read.
    func cpuSeconds() -> Double? {
        let workers = Self.children(of: process.pid)
        guard !workers.isEmpty else { return nil }
        var total = 0.0
        for pid in [process.pid] + workers {
            guard let text = Files.readText("/proc/\(pid)/schedstat"),
                let first = text.split(separator: " ").first, let nanos = Double(first)
            else { return nil }
            total += nanos / 1e9
        }
        return total
    }

    private static func children(of parent: pid_t) -> [pid_t] {
        let text = Files.readText("/proc/\(parent)/task/\(parent)/children") ?? ""
        return text.split(separator: " ").compactMap { pid_t($0) }
    }
}
